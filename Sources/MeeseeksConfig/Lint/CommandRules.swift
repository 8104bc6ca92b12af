/// Checks on one command that need its YAML nodes for precise positions.
enum CommandRules {
    /// Words the box answers itself; a command (or an alias) may not take them.
    public static let builtinNames = BuiltinWords.all

    static func isValidName(_ name: String) -> Bool {
        guard let first = name.first, first.isASCII, first.isLetter || first.isNumber else { return false }
        return name.count <= 64
            && name.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" || $0 == ".") }
    }

    static func check(_ spec: CommandSpec, _ reader: inout MappingReader) {
        let namePosition = reader.peek("name")?.position ?? reader.node.position
        if !isValidName(spec.name) {
            reader.diagnostics.append(
                .error(
                    "bad-name", at: namePosition,
                    "command name '\(spec.name)' must be one word of letters, digits, '-', '_' or '.' (at most 64), as users type it"))
        } else if builtinNames.contains(spec.name) {
            reader.diagnostics.append(
                .error("reserved-name", at: namePosition, "command name '\(spec.name)' is a built-in and would never be reached"))
        }
        if spec.summary.count > SlackLimits.buttonText {
            reader.diagnostics.append(
                .error(
                    "slack-limit", at: reader.peek("summary")?.position ?? namePosition,
                    "summary is \(spec.summary.count) characters; a Slack button shows at most \(SlackLimits.buttonText)"))
        }
        if spec.summary.contains("\n") {
            reader.diagnostics.append(
                .error("bad-value", at: reader.peek("summary")?.position ?? namePosition, "summary must be one line"))
        }
        if let description = spec.description, description.count > SlackLimits.sectionText {
            reader.diagnostics.append(
                .error(
                    "slack-limit", at: reader.peek("description")?.position ?? namePosition,
                    "description is \(description.count) characters; Slack shows at most \(SlackLimits.sectionText) in a section"))
        }
        checkArgumentNames(spec, &reader)
        let argumentNames = Set(spec.arguments.map(\.name))
        if case .run = spec.action, case .sequence(let items) = reader.peek("run")?.kind {
            var afterDoubleDash = false
            for (index, item) in items.enumerated() {
                guard let text = item.scalarText else { continue }
                let template = Template(text)
                checkPlaceholders(template, in: item, allowed: argumentNames, key: "run", &reader)
                if index > 0, !afterDoubleDash { checkOptionInjection(template, in: item, spec: spec, &reader) }
                if text == "--" { afterDoubleDash = true }
            }
        }
        if case .template(let template) = spec.confirm, let node = reader.peek("confirm") {
            checkPlaceholders(template, in: node, allowed: argumentNames.union(["targets", "user"]), key: "confirm", &reader)
        }
    }

    /// An argv element that is a free-text value from its very start lets a user pass an option
    /// (`--output=/etc/passwd`) to the program. Warned about, with the ways out.
    private static func checkOptionInjection(_ template: Template, in node: YAMLNode, spec: CommandSpec, _ reader: inout MappingReader) {
        guard case .placeholder(let name)? = template.parts.first, let argument = spec.argument(named: name),
            argument.kind == .text, argument.pattern == nil
        else { return }
        reader.diagnostics.append(
            .warning(
                "option-injection", at: node.contentPosition,
                "'{{\(name)}}' is free text with no 'pattern' and starts an argv element: a value such as '--output=/etc/passwd' reaches the program as an option; give '\(name)' a pattern that refuses a leading '-' (such as '^[^-]'), or put \"--\" before it in 'run'"
            ))
    }

    private static func checkArgumentNames(_ spec: CommandSpec, _ reader: inout MappingReader) {
        guard case .sequence(let items) = reader.peek("args")?.kind else { return }
        var seen: [String: SourcePosition] = [:]
        for item in items {
            guard case .mapping(let pairs) = item.kind,
                let nameNode = pairs.first(where: { $0.key.scalarText == "name" })?.value,
                let name = nameNode.scalarText
            else { continue }
            if let first = seen[name] {
                reader.diagnostics.append(
                    .error("duplicate-argument", at: nameNode.position, "argument '\(name)' is already declared at \(first)"))
            } else {
                seen[name] = nameNode.position
            }
        }
    }

    private static func checkPlaceholders(
        _ template: Template, in node: YAMLNode, allowed: Set<String>, key: String, _ reader: inout MappingReader
    ) {
        let start = node.contentPosition
        let known = allowed.sorted()
        var hints: [String: String] = [:]
        for (name, offset) in template.placeholders where !allowed.contains(name) {
            let hint =
                hints[name] ?? Suggestion.nearest(to: name, among: known).map { "; did you mean '\($0)'?" }
                ?? (known.isEmpty ? "; the command declares no arguments" : "; known: \(known.joined(separator: ", "))")
            hints[name] = hint
            reader.diagnostics.append(
                .error("unknown-placeholder", at: start.advanced(by: offset), "unknown placeholder '{{\(name)}}' in '\(key)'\(hint)"))
        }
        if template.hasUnclosedPlaceholder {
            reader.diagnostics.append(.error("unclosed-placeholder", at: start, "'{{' without a closing '}}' in '\(key)'"))
        }
    }
}
