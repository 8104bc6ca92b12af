import ArgumentParser
import MeeseeksConfig

extension Meeseeks {
    struct Schema: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print the JSON Schema of a configuration file, for editors.",
            discussion: """
                With the YAML language server (VS Code, Neovim, …), start a command file with
                  # yaml-language-server: $schema=./command.schema.json
                after `meeseeks schema command > command.schema.json`.
                """)

        @Argument(help: "Which file: \(ConfigSchema.Kind.allCases.map(\.rawValue).joined(separator: ", ")).")
        var kind: ConfigSchema.Kind = .command

        func run() {
            print(ConfigSchema.json(for: kind))
        }
    }
}

extension ConfigSchema.Kind: ExpressibleByArgument {}
