/// Checks on one argument that need its YAML nodes for precise positions.
enum ArgumentRules {
    /// Names become `MEESEEKS_ARG_<NAME>` and `{{name}}`, so they are identifiers.
    static func isValidName(_ name: String) -> Bool {
        guard let first = name.first, first.isASCII, first.isLetter || first == "_" else { return false }
        return name.count <= 64 && name.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_") }
    }

    /// Placeholders the box fills itself; an argument may not take these names.
    static let reserved: Set<String> = ["targets", "user", "job", "command"]

    static func check(_ spec: ArgumentSpec, _ reader: inout MappingReader) {
        let snapshot = reader
        var found: [Diagnostic] = []
        defer { reader.diagnostics += found }
        func report(_ key: String, _ code: String, _ message: String) {
            found.append(.error(code, at: snapshot.peek(key)?.position ?? snapshot.node.position, message))
        }
        if !isValidName(spec.name) {
            report("name", "bad-name", "argument name '\(spec.name)' must start with a letter and hold only letters, digits and '_'")
        } else if reserved.contains(spec.name) {
            report("name", "reserved-name", "argument name '\(spec.name)' is reserved: {{\(spec.name)}} is filled by the box")
        }
        if spec.prompt.count > SlackLimits.sectionText {
            report(
                "prompt", "slack-limit",
                "prompt is \(spec.prompt.count) characters; Slack shows at most \(SlackLimits.sectionText) in a section")
        }
        if let pattern = spec.pattern, case .failure(let error) = PatternCache.regex(pattern) {
            report("pattern", "bad-pattern", "invalid regular expression in 'pattern': \(error)")
        }
        checkChoices(spec, &reader, report)
        if let min = spec.min, let max = spec.max, min > max {
            report("min", "bad-range", "'min' (\(min)) is greater than 'max' (\(max))")
        }
        if spec.min != nil || spec.max != nil, spec.kind != .int {
            report(spec.min != nil ? "min" : "max", "bad-range", "'min' and 'max' apply to int arguments only")
        }
        if let value = spec.defaultValue, spec.kind != .choice, let problem = ArgumentValidation.problem(value, for: spec) {
            report("default", "bad-default", "default '\(value)' is not a valid value: \(problem)")
        }
        if spec.secret, spec.kind == .choice {
            report("secret", "bad-value", "a choice argument cannot be secret: its choices are shown as buttons")
        }
    }

    private static func checkChoices(
        _ spec: ArgumentSpec, _ reader: inout MappingReader, _ report: (String, String, String) -> Void
    ) {
        if spec.kind == .choice, spec.choices.isEmpty {
            report("type", "missing-choices", "a choice argument needs 'choices'")
        }
        if spec.kind != .choice, !spec.choices.isEmpty, reader.peek("type") != nil {
            report("choices", "bad-value", "'choices' apply to choice arguments only, but 'type' is \(spec.kind.rawValue)")
        }
        if spec.choices.count > SlackLimits.selectOptions {
            report("choices", "slack-limit", "\(spec.choices.count) choices; a Slack menu holds at most \(SlackLimits.selectOptions)")
        }
        if case .sequence(let items) = reader.peek("choices")?.kind {
            var seen: Set<String> = []
            for item in items {
                guard let text = item.scalarText else { continue }
                if text.count > SlackLimits.optionText {
                    reader.diagnostics.append(
                        .error(
                            "slack-limit", at: item.position,
                            "choice is \(text.count) characters; Slack shows at most \(SlackLimits.optionText) in a button or menu option"))
                }
                if text.isEmpty {
                    reader.diagnostics.append(.error("bad-value", at: item.position, "a choice must not be empty"))
                }
                if !seen.insert(text).inserted {
                    reader.diagnostics.append(.error("duplicate-choice", at: item.position, "choice '\(text)' is listed twice"))
                }
            }
        }
        if spec.kind == .choice, let value = spec.defaultValue, !spec.choices.contains(value) {
            report("default", "bad-default", "default '\(value)' is not among the choices (\(spec.choices.joined(separator: ", ")))")
        }
    }
}

/// Slack's Block Kit limits (reference/slack.md §4): what configuration values must respect (lint)
/// and what every payload the box sends is checked against (`BlockKitLimits`).
public enum SlackLimits {
    public static let messageBlocks = 50
    public static let modalBlocks = 100
    public static let sectionText = 3000
    public static let sectionFields = 10
    public static let fieldText = 2000
    public static let blockID = 255
    public static let buttonText = 75
    public static let actionID = 255
    public static let buttonValue = 2000
    public static let selectOptions = 100
    public static let optionGroups = 100
    public static let optionText = 75
    public static let optionValue = 150
    public static let optionDescription = 75
    public static let placeholder = 150
    public static let actionsElements = 25
    public static let contextElements = 10
    public static let header = 150
    public static let inputLabel = 2000
    public static let inputLength = 3000
    public static let modalTitle = 24
    public static let modalButton = 24
    public static let privateMetadata = 3000
    public static let callbackID = 255
    public static let messageText = 4000
}
