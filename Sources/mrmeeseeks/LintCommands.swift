import ArgumentParser
import MeeseeksConfig

/// `mrmeeseeks lint --config DIR`: the agent's own commands checked as `meeseeks lint` checks the
/// box's, with the same output and exit codes.
struct LintCommands: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mrmeeseeks lint",
        abstract: "Check this agent's own commands (DIR/commands.d) without connecting to anything.",
        discussion: """
            Prints each finding on stderr as PATH:LINE:COL: error|warning: MESSAGE.
            Exit status: 0 no errors (warnings allowed), 1 errors, 2 usage.
            """)

    enum Format: String, ExpressibleByArgument, CaseIterable {
        case text, json
    }

    @Option(name: .long, help: "The folder holding commands.d/.")
    var config: String = "."

    @Option(name: .long, help: "How to print findings: text on stderr, or a JSON array on stdout.")
    var format: Format = .text

    @Flag(name: .long, help: "Treat warnings as errors.")
    var strict = false

    func run() throws {
        let result = ConfigLoader.loadCommands(directory: config)
        let findings = result.diagnostics.filter { $0.severity != .note }
        try LintReport.print(findings, files: result.partial.files.count, asJSON: format == .json)
        if findings.hasErrors || (strict && !findings.isEmpty) { throw ExitCode(1) }
    }
}
