import ArgumentParser
import Foundation
import MeeseeksConfig

extension Meeseeks {
    struct Lint: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Check configuration without starting anything.",
            discussion: """
                Prints each finding on stderr as PATH:LINE:COL: error|warning: MESSAGE.
                Exit status: 0 no errors (warnings allowed), 1 errors, 2 usage.
                With PATHs, checks those files (commands and policies are told apart by content).
                """)

        enum Format: String, ExpressibleByArgument, CaseIterable {
            case text, json
        }

        @Option(name: .long, help: "The configuration directory (meeseeks.yaml, commands.d/, policies.d/).")
        var config: String = "."

        @Option(name: .long, help: "How to print findings: text on stderr, or a JSON array on stdout.")
        var format: Format = .text

        @Flag(name: .long, help: "Treat warnings as errors.")
        var strict = false

        @Argument(help: "Files or directories to check instead of the whole configuration directory.")
        var paths: [String] = []

        func run() throws {
            let result = paths.isEmpty ? ConfigLoader.load(directory: config) : ConfigLoader.load(paths: paths)
            let findings = result.diagnostics.filter { $0.severity != .note }
            try LintReport.print(findings, files: result.partial.files.count, asJSON: format == .json)
            let failed = findings.hasErrors || (strict && !findings.isEmpty)
            if failed { throw ExitCode(1) }
        }
    }
}
