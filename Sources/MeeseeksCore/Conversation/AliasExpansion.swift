import MeeseeksConfig

/// Aliases and presets, expanded once, where a request's first word is read: in dialogs (Slack,
/// `meeseeks chat`) and in direct runs (`meeseeks run`). What they expand to goes through the
/// same checks and policy as the command typed in full.
public enum AliasExpansion {
    /// `text` with its first word replaced by what it stands for (unchanged when it is no alias).
    public static func expand(_ text: String, in configuration: Configuration) -> String {
        let trimmed = text.trimmingSpaces
        let firstEnd = trimmed.firstIndex(where: \.isWhitespace) ?? trimmed.endIndex
        let word = String(trimmed[..<firstEnd])
        let rest = trimmed[firstEnd...]
        switch configuration.alias(word) {
        case .command(let name)?: return name + rest
        case .preset(let request)?: return request + rest
        case nil: return text
        }
    }

    /// A direct run's command and arguments with its command word expanded: a preset's fixed
    /// arguments come first; the caller's are added (giving a fixed one again is refused later,
    /// as "given twice").
    public static func expand(
        command: String, positional: [String], named: [(name: String, value: String)], in configuration: Configuration
    )
        -> (command: String, positional: [String], named: [(name: String, value: String)])
    {
        switch configuration.alias(command) {
        case .command(let name)?:
            return (name, positional, named)
        case .preset(let text)?:
            guard let preset = try? TypedRequest.parse(text) else { return (command, positional, named) }  // lint refuses such a preset
            return (preset.command, preset.positional + positional, preset.named.map { ($0.name, $0.value) } + named)
        case nil:
            return (command, positional, named)
        }
    }
}
