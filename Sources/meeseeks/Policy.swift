import ArgumentParser
import MeeseeksConfig
import MeeseeksCore

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
            discussion: "Reads the configuration directory; no box needs to run.")

        @Option(name: .long, help: "The configuration directory.")
        var config: String = "."

        @Option(name: .long, help: "The Slack user ID to explain, such as U01ABCDEF.")
        var user: String

        @Option(name: .long, help: "Explain one command only.")
        var command: String?

        func run() throws {
            let result = ConfigLoader.load(directory: config)
            for diagnostic in result.diagnostics.errors { FileOutput.standardError.write("\(diagnostic)\n") }
            guard let configuration = result.configuration else { throw ExitCode(1) }
            let explanation = PolicyExplanation(configuration: configuration, user: user)
            if let command {
                guard configuration.command(named: command) != nil else {
                    FileOutput.standardError.write("error: there is no command '\(command)'\n")
                    throw ExitCode(1)
                }
                print(explanation.explain(command: command))
            } else {
                print(explanation.summary())
            }
        }
    }
}
