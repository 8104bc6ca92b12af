/// The checks a box makes on a command an agent defines (it arrives over the wire, not from a
/// file): the same rules lint applies to `commands.d`, as plain sentences, plus bounds on what
/// a hostile agent could send to make the box slow or the Slack messages fail.
public enum DefinitionRules {
    /// At most this many commands per agent, and arguments per command.
    public static let maxCommands = 500
    public static let maxArguments = 50
    /// Patterns are compiled and run by the box: long ones are refused.
    public static let maxPatternLength = 500

    /// Why the box will not take `spec`, or nil.
    public static func problem(_ spec: CommandSpec) -> String? {
        let name = spec.name
        guard CommandRules.isValidName(name) else {
            return "command name '\(name.prefix(64))' must be one word of letters, digits, '-', '_' or '.' (at most 64)"
        }
        if BuiltinWords.all.contains(name) { return "'\(name)' is a built-in" }
        if spec.summary.count > SlackLimits.buttonText || spec.summary.contains("\n") {
            return "'\(name)': the summary must be one line of at most \(SlackLimits.buttonText) characters"
        }
        if let description = spec.description, description.count > SlackLimits.sectionText {
            return "'\(name)': the description is longer than \(SlackLimits.sectionText) characters"
        }
        guard (1...86_400).contains(spec.timeout) else { return "'\(name)': the timeout must be 1 to 86400 seconds" }
        guard spec.arguments.count <= maxArguments else { return "'\(name)': more than \(maxArguments) arguments" }
        guard spec.aliases.count <= 20, spec.aliases.allSatisfy({ AliasRules.isWord($0) && !BuiltinWords.all.contains($0) }) else {
            return "'\(name)': at most 20 aliases, each one word that is not a built-in"
        }
        if case .template(let template) = spec.confirm, template.source.count > SlackLimits.sectionText {
            return "'\(name)': the confirmation is longer than \(SlackLimits.sectionText) characters"
        }
        var seen: Set<String> = []
        for argument in spec.arguments {
            if let problem = problem(argument) { return "'\(name)', argument '\(argument.name.prefix(64))': \(problem)" }
            guard seen.insert(argument.name).inserted else { return "'\(name)': argument '\(argument.name)' is defined twice" }
        }
        return nil
    }

    static func problem(_ argument: ArgumentSpec) -> String? {
        guard ArgumentRules.isValidName(argument.name), !ArgumentRules.reserved.contains(argument.name) else {
            return "the name must start with a letter, hold only letters, digits and '_', and not be reserved"
        }
        if argument.prompt.count > SlackLimits.sectionText { return "the prompt is longer than \(SlackLimits.sectionText) characters" }
        if argument.kind == .choice {
            guard !argument.choices.isEmpty, argument.choices.count <= SlackLimits.selectOptions,
                Set(argument.choices).count == argument.choices.count,
                argument.choices.allSatisfy({ !$0.isEmpty && $0.count <= SlackLimits.optionText })
            else {
                return "a choice needs 1 to \(SlackLimits.selectOptions) distinct choices of 1 to \(SlackLimits.optionText) characters"
            }
            if argument.secret { return "a choice argument cannot be secret" }
        } else if !argument.choices.isEmpty {
            return "choices apply to choice arguments only"
        }
        if let pattern = argument.pattern {
            guard pattern.count <= maxPatternLength else { return "the pattern is longer than \(maxPatternLength) characters" }
            if case .failure(let error) = PatternCache.regex(pattern) { return "invalid pattern: \(error)" }
        }
        if let min = argument.min, let max = argument.max, min > max { return "min is greater than max" }
        if argument.min != nil || argument.max != nil, argument.kind != .int { return "min and max apply to int arguments only" }
        if let value = argument.defaultValue, let problem = ArgumentValidation.problem(value, for: argument) {
            return "the default is not a valid value: \(problem)"
        }
        return nil
    }
}
