/// Decodes one entry of a command's `args`.
enum ArgumentDecoder {
    static let keys = ["name", "prompt", "type", "choices", "pattern", "min", "max", "required", "default", "secret"]

    static func decode(_ node: YAMLNode, diagnostics: inout [Diagnostic]) -> ArgumentSpec? {
        guard var reader = MappingReader(node, context: "an argument", diagnostics: &diagnostics) else { return nil }
        defer { diagnostics += reader.finish() }

        let name = reader.string("name", required: true)
        let prompt = reader.string("prompt")
        let choices = reader.strings("choices")?.map(\.0) ?? []
        var kind: ArgumentSpec.Kind = choices.isEmpty ? .text : .choice
        if let typeNode = reader.node("type") {
            if let text = typeNode.scalarText, let parsed = ArgumentSpec.Kind(rawValue: text) {
                kind = parsed
            } else {
                let found = typeNode.scalarText ?? typeNode.typeDescription
                let hint =
                    Suggestion.nearest(to: found, among: ArgumentSpec.Kind.allCases.map(\.rawValue))
                    .map { "; did you mean '\($0)'?" } ?? ""
                reader.diagnostics.append(
                    .error(
                        "bad-value", at: typeNode.position,
                        "'type' must be one of text, choice, int, bool, found '\(found)'\(hint)"))
            }
        }
        let pattern = reader.string("pattern")
        let min = reader.int("min")
        let max = reader.int("max")
        let required = reader.bool("required")
        let secret = reader.bool("secret") ?? false
        var defaultValue: String?
        if let node = reader.node("default") {
            switch node.resolved {
            case .null: break
            case .bool(let b): defaultValue = b ? "true" : "false"
            default: defaultValue = node.scalarText
            }
            if node.scalarText == nil { reader.typeError("default", node, expected: "a single value") }
        }
        guard let name else { return nil }
        let spec = ArgumentSpec(
            name: name, prompt: prompt, kind: kind, choices: choices, pattern: pattern, min: min, max: max,
            required: required ?? (defaultValue == nil), defaultValue: defaultValue, secret: secret)
        ArgumentRules.check(spec, &reader)
        return spec
    }
}
