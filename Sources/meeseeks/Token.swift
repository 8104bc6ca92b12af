import ArgumentParser
import Foundation
import MeeseeksBox
import MeeseeksConfig
import MeeseeksCore

extension Meeseeks {
    struct Token: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Manage API tokens (stored hashed in the box's database).",
            subcommands: [Create.self, List.self, Revoke.self])
    }
}

/// The database a box with this configuration uses: the same one `serve` would.
struct DatabaseOptions: ParsableArguments {
    @Option(name: .long, help: "The configuration directory.")
    var config: String = "."

    @Option(
        name: .long, help: "The database: a path, sqlite:PATH or postgres://… (default: $MEESEEKS_DB, paths.database, DIR/meeseeks.db).")
    var db: String?

    func location() -> DatabaseLocation {
        let loaded = ConfigLoader.load(directory: config).configuration
        return DatabaseLocation.resolve(
            option: db, environment: ProcessInfo.processInfo.environment, configuration: loaded, directory: config)
    }

    func tokens() throws -> TokenAdmin {
        do {
            return try TokenAdmin.open(location())
        } catch {
            throw ValidationError(error.description)
        }
    }
}

extension Meeseeks.Token {
    struct Create: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Create a token acting as a user; prints the token once.",
            discussion: "Use it as MEESEEKS_API_TOKEN. Tokens of admins may also act as other users (--as).")

        @OptionGroup var database: DatabaseOptions

        @Option(name: .long, help: "The Slack user ID the token acts as.")
        var user: String

        @Option(name: .long, help: "A name to list and revoke it by.")
        var name: String

        func run() throws {
            do {
                print(try database.tokens().create(user: user, name: name))
            } catch let problem as TokenAdmin.Problem {
                throw ValidationError(problem.description)
            }
        }
    }

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List tokens (never their secrets).")

        @OptionGroup var database: DatabaseOptions

        func run() throws {
            for token in try database.tokens().list() {
                print("\(token.name)\t\(token.user)\t\(BuiltinFormatter.timestamp(token.createdAt))\(token.revoked ? "\trevoked" : "")")
            }
        }
    }

    struct Revoke: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Revoke a token by name.")

        @OptionGroup var database: DatabaseOptions

        @Argument(help: "The token's name.")
        var name: String

        func run() throws {
            guard try database.tokens().revoke(name: name) else {
                FileOutput.standardError.write("meeseeks: no active token named '\(name)'\n")
                throw ExitCode(1)
            }
            print("revoked \(name)")
        }
    }
}
