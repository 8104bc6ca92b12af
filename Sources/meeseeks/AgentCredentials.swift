import ArgumentParser
import Foundation
import MeeseeksBox
import MeeseeksConfig
import MeeseeksCore
import MeeseeksLabels

extension Meeseeks {
    struct Agent: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Enroll, list and revoke per-agent credentials (stored hashed in the box's database).",
            discussion: """
                An enrolled agent dials in with its own token (as MEESEEKS_AGENT_TOKEN) and may claim only its id, \
                the labels it was enrolled with and, if given, those --commands globs. The shared token no longer \
                opens an enrolled id. Revoking disconnects a live agent within a second; its running jobs are lost.
                """,
            subcommands: [Enroll.self, List.self, Revoke.self])
    }
}

extension DatabaseOptions {
    func agents() throws -> AgentAdmin {
        do {
            return try AgentAdmin.open(location())
        } catch {
            throw ValidationError(error.description)
        }
    }
}

extension Meeseeks.Agent {
    struct Enroll: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Enroll an agent id; prints its token once.")

        @OptionGroup var database: DatabaseOptions

        @Argument(help: "The agent's id (mrmeeseeks --id).")
        var id: String

        @Option(name: .long, help: "The labels it may claim, k=v,k=v (each claimed label must be one of these).")
        var labels: String = ""

        @Option(name: .long, help: "The --commands globs it may claim, comma-separated (default: any).")
        var commands: String?

        func run() throws {
            let parsed: LabelSet
            do {
                parsed = try LabelSet.parse(labels)
            } catch {
                throw ValidationError("--labels: \(error)")
            }
            let globs = commands.map {
                $0.split(separator: ",").map { String($0).trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
            }
            do {
                print(try database.agents().enroll(agentID: id, labels: parsed, commands: globs))
            } catch let problem as TokenAdmin.Problem {
                throw ValidationError(problem.description)
            }
        }
    }

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List enrolled agents (never their tokens).")

        @OptionGroup var database: DatabaseOptions

        func run() throws {
            for credential in try database.agents().list() {
                let commands = credential.commands?.joined(separator: ",") ?? "*"
                print(
                    "\(credential.agentID)\t\(credential.labels.description.isEmpty ? "-" : credential.labels.description)\t\(commands)"
                        + "\t\(BuiltinFormatter.timestamp(credential.createdAt))\(credential.revoked ? "\trevoked" : "")")
            }
        }
    }

    struct Revoke: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Revoke an agent's credential; a live agent is disconnected.")

        @OptionGroup var database: DatabaseOptions

        @Argument(help: "The agent's id.")
        var id: String

        func run() throws {
            guard try database.agents().revoke(agentID: id) else {
                FileOutput.standardError.write("meeseeks: agent '\(id)' has no active credential\n")
                throw ExitCode(1)
            }
        }
    }
}
