import ArgumentParser
import Crypto
import Foundation
import MeeseeksBox
import MeeseeksConfig
import MeeseeksCore
import MeeseeksSQLite

extension Meeseeks {
    struct Token: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Manage API tokens (stored hashed in the box's database).",
            subcommands: [Create.self, List.self, Revoke.self])
    }
}

/// The database a box with this configuration uses.
struct DatabaseOptions: ParsableArguments {
    @Option(name: .long, help: "The configuration directory.")
    var config: String = "."

    @Option(name: .long, help: "The SQLite database (default DIR/meeseeks.db).")
    var db: String?

    func open() throws -> SQLiteStore {
        let path = db ?? "\(config)/meeseeks.db"
        do {
            return try SQLiteStore(path: path)
        } catch {
            throw ValidationError("cannot open the database \(path): \(error)")
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
            let store = try database.open()
            var bytes = [UInt8](repeating: 0, count: 32)
            for i in bytes.indices { bytes[i] = UInt8.random(in: 0...255) }
            let token = "msk_" + Hex.encode(bytes)
            do {
                try store.saveToken(APIToken(name: name, user: user, hash: BoxAPI.hash(token: token), createdAt: Date().timeIntervalSince1970))
            } catch {
                throw ValidationError("cannot create token '\(name)': \(error) (is the name taken?)")
            }
            try? store.append(AuditRecord(action: .tokenCreated, user: user, outcome: "ok", detail: "name \(name)"), at: Date().timeIntervalSince1970)
            print(token)
        }
    }

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List tokens (never their secrets).")

        @OptionGroup var database: DatabaseOptions

        func run() throws {
            for token in try database.open().tokens() {
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
            let store = try database.open()
            guard try store.revokeToken(name: name) else {
                FileOutput.standardError.write("meeseeks: no active token named '\(name)'\n")
                throw ExitCode(1)
            }
            try? store.append(AuditRecord(action: .tokenRevoked, user: "cli", outcome: "ok", detail: "name \(name)"), at: Date().timeIntervalSince1970)
            print("revoked \(name)")
        }
    }
}
