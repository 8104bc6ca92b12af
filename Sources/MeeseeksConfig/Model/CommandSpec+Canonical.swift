import MeeseeksLabels

/// A command's whole definition as one text, the same for the same definition whatever file or
/// order it came from: an agent hashes it (how the command runs included) so the box can tell
/// two agents' commands of one name apart without seeing how either runs.
extension CommandSpec {
    public var canonicalText: String {
        var lines: [String] = []
        func add(_ key: String, _ value: String) {
            // Lengths first: no value can pass itself off as the next key.
            lines.append("\(key) \(value.utf8.count) \(value)")
        }
        add("name", name)
        add("summary", summary)
        add("description", description ?? "")
        switch action {
        case .run(let templates): for template in templates { add("run", template.source) }
        case .script(let text): add("script", text)
        case .onAgent: add("on-agent", "")
        }
        for argument in arguments {
            add("argument", argument.name)
            add("prompt", argument.prompt)
            add("type", argument.kind.rawValue)
            for choice in argument.choices { add("choice", choice) }
            add("pattern", argument.pattern ?? "")
            add("min", argument.min.map(String.init) ?? "")
            add("max", argument.max.map(String.init) ?? "")
            add("required", "\(argument.required)")
            add("default", argument.defaultValue.map { "=" + $0 } ?? "")
            add("secret", "\(argument.secret)")
        }
        switch confirm {
        case .never: add("confirm", "never")
        case .always: add("confirm", "always")
        case .template(let template): add("confirm", "template " + template.source)
        }
        add("two_factor", "\(twoFactor)")
        add("timeout", "\(timeout)")
        add("selector", selector.description)
        add("mode", mode.rawValue)
        add("concurrency", concurrency.map(String.init) ?? "")
        add("channels", channels?.joined(separator: ",") ?? "*")
        add("destructive", "\(destructive)")
        for alias in aliases { add("alias", alias) }
        if let approval {
            add("approval", "\(approval.roles.joined(separator: ",")) \(approval.count) \(approval.timeout) \(approval.channel ?? "-")")
        }
        return lines.joined(separator: "\n")
    }
}
