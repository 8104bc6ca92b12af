import ArgumentParser
import Foundation
import MeeseeksBox
import MeeseeksConfig
import MeeseeksCore
import MeeseeksLabels

extension Meeseeks {
    struct Policy: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Inspect the policy.", subcommands: [Explain.self])
    }
}

extension Meeseeks.Policy {
    struct Explain: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print what a user may run where, and why not.",
            discussion: """
                Reads the configuration directory; no box needs to run.

                Without --agents, --selector, --channel or --json: the user's roles and, per command, the grants \
                that allow it. With any of them: the decision the box would make for each user and command, \
                from the same policy engine the box runs, against the agents of --agents FILE (a YAML or \
                JSON list such as `- {id: web-1, labels: {env: prd, role: web}, commands: ["deploy-*"]}`; \
                commands absent: all) or, without it, the embedded local agent (labels agent=local) alone. \
                --json prints {selector, channel, agents, users: [{user, roles, admin}], decisions: [{user, \
                command, allowed, targets, reason, message}]}: targets are the agent ids the request may go to, \
                sorted; reason is the refusal's stable code (no_role, no_grant, wrong_channel, \
                no_agent_matches_grant, no_agent_matches_command, no_agent_matches_request, \
                no_agent_accepts_command).
                """)

        @Option(name: .long, help: "The configuration directory.")
        var config: String = "."

        @Option(name: .long, help: "A Slack user ID to explain, such as U01ABCDEF; repeat for several users.")
        var user: [String] = []

        @Option(name: .long, help: "Explain this command only; repeat for several (default: every command).")
        var command: [String] = []

        @Option(
            name: .long,
            help: ArgumentHelp(
                "A YAML or JSON file listing the fleet: each agent's id, labels and accepted command globs.",
                valueName: "file"))
        var agents: String?

        @Option(
            name: [.customShort("l"), .long],
            help: ArgumentHelp("The selector the user typed with -l, such as \"env=stg\".", valueName: "selector"))
        var selector: String?

        @Option(
            name: .long,
            help: ArgumentHelp(
                "The channel ID the request is made in (default: none, as from a terminal or the API).",
                valueName: "channel"))
        var channel: String?

        @Flag(name: .long, help: "Print the decisions as JSON.")
        var json = false

        func validate() throws {
            if user.isEmpty { throw ValidationError("Missing expected argument '--user <user>'") }
            if let selector {
                do {
                    _ = try LabelSelector(selector)
                } catch {
                    throw ValidationError("invalid selector in --selector: \(error)")
                }
            }
        }

        func run() throws {
            let result = ConfigLoader.load(directory: config)
            for diagnostic in result.diagnostics.errors { FileOutput.standardError.write("\(diagnostic)\n") }
            guard let configuration = result.configuration else { throw ExitCode(1) }
            for name in command where configuration.command(named: name) == nil {
                FileOutput.standardError.write("error: there is no command '\(name)'\n")
                throw ExitCode(1)
            }
            if json || agents != nil || selector != nil || channel != nil {
                try explainDecisions(configuration)
            } else {
                explainGrants(configuration)
            }
        }

        /// The original text: roles and grants, no fleet.
        private func explainGrants(_ configuration: Configuration) {
            for user in user {
                let explanation = PolicyExplanation(configuration: configuration, user: user)
                if command.isEmpty {
                    print(explanation.summary())
                } else {
                    for name in command { print(explanation.explain(command: name)) }
                }
            }
        }

        /// The engine's decisions against a fleet.
        private func explainDecisions(_ configuration: Configuration) throws {
            let fleet = try loadFleet()
            let names = command.isEmpty ? configuration.commands.map(\.name).sorted() : command
            let report = PolicyReport(
                configuration: configuration, users: user, commands: names, agents: fleet,
                requestSelector: try LabelSelector(selector ?? ""), channel: channel)
            if json {
                let encoder = JSONEncoder()
                encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
                let data = try encoder.encode(report)
                FileOutput.standardOutput.write(String(decoding: data, as: UTF8.self) + "\n")
            } else if !report.decisions.isEmpty {
                print(report.text)
            }
        }

        private func loadFleet() throws -> [AgentInfo] {
            guard let agents else {
                return [AgentInfo(id: LocalAgent.id, labels: ["agent": "local"], commands: ["*"])]
            }
            let text: String
            do {
                text = try String(contentsOfFile: agents, encoding: .utf8)
            } catch {
                FileOutput.standardError.write("error: cannot read \(agents): \(error.localizedDescription)\n")
                throw ExitCode(1)
            }
            let parsed = AgentFleetFile.parse(text, file: agents)
            for diagnostic in parsed.diagnostics { FileOutput.standardError.write("\(diagnostic)\n") }
            if parsed.diagnostics.hasErrors { throw ExitCode(1) }
            return parsed.agents
        }
    }
}
