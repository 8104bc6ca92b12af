/// Aliases and presets: each word means one thing, and a preset is a request that could run.
enum AliasRules {
    static func check(commands: [CommandSpec], settings: BoxSettings) -> [Diagnostic] {
        var diagnostics: [Diagnostic] = []
        let names = Dictionary(commands.map { ($0.name, $0.position) }, uniquingKeysWith: { first, _ in first })
        var claimed: [String: (what: String, at: SourcePosition)] = [:]
        func claim(_ word: String, _ what: String, at position: SourcePosition) {
            if BuiltinWords.all.contains(word) {
                diagnostics.append(
                    .error(
                        "alias-shadows-builtin", at: position, "\(what) '\(word)' is a built-in, which it would hide; choose another word"))
            } else if let command = names[word] {
                diagnostics.append(
                    .error("alias-collision", at: position, "\(what) '\(word)' is already the name of a command (\(command))"))
            } else if let first = claimed[word] {
                diagnostics.append(.error("alias-collision", at: position, "\(what) '\(word)' is already \(first.what) at \(first.at)"))
            } else if !isWord(word) {
                diagnostics.append(
                    .error("bad-name", at: position, "\(what) '\(word)' must be one word of letters, digits, '-', '_' or '.'"))
            } else {
                claimed[word] = (what, position)
            }
        }
        for command in commands {
            for alias in command.aliases { claim(alias, "the alias of '\(command.name)'", at: command.position) }
        }
        for (word, request) in settings.presets.sorted(by: { $0.key < $1.key }) {
            let position = settings.presetPositions[word] ?? .file("meeseeks.yaml")
            claim(word, "the preset", at: position)
            diagnostics += checkPreset(word, request, at: position, commands: commands)
        }
        return diagnostics
    }

    /// A preset names a command (not another alias: no chains, no loops) and gives it values it
    /// would accept.
    private static func checkPreset(_ word: String, _ request: String, at position: SourcePosition, commands: [CommandSpec]) -> [Diagnostic]
    {
        let words = request.split(whereSeparator: \.isWhitespace).map(String.init)
        guard let first = words.first, let spec = commands.first(where: { $0.name == first }) else {
            let named = words.first ?? ""
            let isAlias = commands.contains { $0.aliases.contains(named) }
            return [
                .error(
                    isAlias ? "alias-chain" : "unknown-command", at: position,
                    isAlias
                        ? "preset '\(word)' stands for '\(named)', which is itself an alias; name the command (aliases are expanded once)"
                        : "preset '\(word)' stands for '\(named)', which is not a command")
            ]
        }
        var problems: [Diagnostic] = []
        var positional = 0
        for part in words.dropFirst() {
            guard let equals = part.firstIndex(of: "=") else {
                positional += 1
                if positional > spec.arguments.count {
                    problems.append(
                        .error("bad-preset", at: position, "preset '\(word)' gives '\(spec.name)' more arguments than it takes"))
                } else if let problem = ArgumentValidation.problem(part, for: spec.arguments[positional - 1]) {
                    problems.append(
                        .error("bad-preset", at: position, "preset '\(word)': \(spec.arguments[positional - 1].name): \(problem)"))
                }
                continue
            }
            let name = String(part[..<equals])
            let value = String(part[part.index(after: equals)...])
            guard let argument = spec.argument(named: name) else {
                problems.append(.error("bad-preset", at: position, "preset '\(word)' names '\(name)', which '\(spec.name)' does not take"))
                continue
            }
            if let problem = ArgumentValidation.problem(value, for: argument) {
                problems.append(.error("bad-preset", at: position, "preset '\(word)': \(name): \(problem)"))
            }
        }
        return problems
    }

    static func isWord(_ word: String) -> Bool {
        !word.isEmpty && word.count <= 64 && word.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || "-_.".contains($0)) }
    }
}
