import ArgumentParser
import MeeseeksCore

/// `meeseeks`: the box and its admin CLI.
@main
struct Meeseeks: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Meeseeks Box: ChatOps that runs your commands on your agents.",
        discussion: """
            "You make a request. The Meeseek fulfils it. And then it stops existing."

            Start with `meeseeks lint` on your configuration directory, then `meeseeks serve`.
            """,
        version: BuildVersion.current,
        subcommands: [
            Serve.self, Lint.self, Chat.self, Run.self, Jobs.self, Logs.self, Cancel.self, Approvals.self, Approve.self, Deny.self,
            Agents.self, Agent.self, Token.self, Policy.self,
            Slack.self, TwoFactor.self, Audit.self, Cluster.self,
            Schema.self,
            Migrate.self,
        ])

    /// Usage errors exit 2, as SPEC §2 promises for `lint` and as Unix tools do.
    static func main() async {
        do {
            var command = try parseAsRoot()
            if var asyncCommand = command as? any AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
        } catch {
            let code = exitCode(for: error)
            if code == .validationFailure {
                let message = fullMessage(for: error)
                FileOutput.standardError.write(message + "\n")
                exit(withError: ExitCode(2))
            }
            exit(withError: error)
        }
    }
}
