/// Reads one YAML mapping into typed values, collecting a diagnostic for every problem.
///
/// Each `take` names a key it knows; `finish()` then reports every key nobody asked for, with a
/// "did you mean" suggestion drawn from the known keys.
struct MappingReader {
    let node: YAMLNode
    let context: String
    private var pairs: [String: YAMLNode.Pair] = [:]
    private var order: [String] = []
    private var known: Set<String> = []
    /// The known keys in the order they were asked for, for suggestions.
    private var knownInOrder: [String] = []
    var diagnostics: [Diagnostic] = []

    /// Nil (with a diagnostic) when `node` is not a mapping.
    init?(_ node: YAMLNode, context: String, diagnostics: inout [Diagnostic]) {
        guard case .mapping(let list) = node.kind else {
            diagnostics.append(.error("wrong-type", at: node.position, "\(context) must be a mapping, found \(node.typeDescription)"))
            return nil
        }
        self.node = node
        self.context = context
        for pair in list {
            guard let key = pair.key.scalarText else {
                diagnostics.append(.error("wrong-type", at: pair.key.position, "keys in \(context) must be strings"))
                continue
            }
            if pairs[key] == nil { order.append(key) }
            pairs[key] = pairs[key] ?? pair
        }
    }

    /// The node under `key`, marking the key as known.
    mutating func node(_ key: String) -> YAMLNode? {
        if known.insert(key).inserted { knownInOrder.append(key) }
        return pairs[key]?.value
    }

    /// The node under `key` without marking it known: for rules that run after decoding.
    func peek(_ key: String) -> YAMLNode? {
        pairs[key]?.value
    }

    /// The position of `key` itself, or of the mapping when it is absent.
    func keyPosition(_ key: String) -> SourcePosition {
        pairs[key]?.key.position ?? node.position
    }

    var keys: [String] { order }

    mutating func missing(_ key: String, _ explanation: String = "") {
        let extra = explanation.isEmpty ? "" : ": \(explanation)"
        diagnostics.append(.error("missing-key", at: node.position, "\(context) is missing required key '\(key)'\(extra)"))
    }

    mutating func string(_ key: String, required: Bool = false) -> String? {
        guard let value = node(key) else {
            if required { missing(key) }
            return nil
        }
        switch value.resolved {
        case .string(let s): return s
        case .int, .float:
            return value.scalarText  // `version: 1.2` is fine as text
        case .null where !required: return nil
        default:
            typeError(key, value, expected: "a string")
            return nil
        }
    }

    mutating func bool(_ key: String) -> Bool? {
        guard let value = node(key) else { return nil }
        if case .bool(let b) = value.resolved { return b }
        typeError(key, value, expected: "true or false")
        return nil
    }

    mutating func int(_ key: String) -> Int? {
        guard let value = node(key) else { return nil }
        if case .int(let i) = value.resolved { return i }
        typeError(key, value, expected: "a whole number")
        return nil
    }

    /// A list of strings; a single string is accepted as a one-element list when `single` is set.
    mutating func strings(_ key: String, single: Bool = false) -> [(String, YAMLNode)]? {
        guard let value = node(key) else { return nil }
        switch value.kind {
        case .sequence(let items):
            var result: [(String, YAMLNode)] = []
            for item in items {
                switch item.resolved {
                case .string(let s): result.append((s, item))
                case .int, .float, .bool: result.append((item.scalarText ?? "", item))
                default:
                    diagnostics.append(
                        .error("wrong-type", at: item.position, "items of '\(key)' must be strings, found \(item.typeDescription)"))
                }
            }
            return result
        case .scalar where single:
            if case .string(let s) = value.resolved { return [(s, value)] }
            fallthrough
        default:
            typeError(key, value, expected: single ? "a string or a list of strings" : "a list of strings")
            return nil
        }
    }

    /// A duration such as `30s`, `2m`, `1h30m`, `7d`, in seconds.
    mutating func duration(_ key: String) -> Int? {
        guard let value = node(key) else { return nil }
        if case .int(let seconds) = value.resolved, seconds > 0 { return seconds }
        guard let text = value.scalarText, let seconds = DurationText.seconds(text) else {
            diagnostics.append(
                .error(
                    "bad-duration", at: value.position,
                    "'\(key)' must be a duration such as 30s, 2m, 1h or 1h30m, found '\(value.scalarText ?? value.typeDescription)'"))
            return nil
        }
        return seconds
    }

    mutating func typeError(_ key: String, _ value: YAMLNode, expected: String) {
        diagnostics.append(
            .error("wrong-type", at: value.position, "'\(key)' must be \(expected), found \(value.typeDescription)"))
    }

    /// Reads the mapping under `key`, if present, with its own reader; its findings join ours.
    mutating func section(_ key: String, _ body: (inout MappingReader) -> Void) {
        guard let node = node(key), var nested = MappingReader(node, context: "'\(key)'", diagnostics: &diagnostics) else { return }
        body(&nested)
        diagnostics += nested.finish()
    }

    /// Reports keys nobody read, suggesting the nearest known one.
    mutating func finish() -> [Diagnostic] {
        for key in order where !known.contains(key) {
            let suggestion = Suggestion.nearest(to: key, among: knownInOrder).map { "; did you mean '\($0)'?" } ?? ""
            diagnostics.append(
                .error("unknown-key", at: keyPosition(key), "unknown key '\(key)' in \(context)\(suggestion)"))
        }
        return diagnostics
    }
}

/// Durations as operators write them.
public enum DurationText {
    /// `30s`, `2m`, `1h`, `1h30m`, `7d`, `500ms` rounded up to whole seconds; nil when malformed or zero.
    public static func seconds(_ text: String) -> Int? {
        let units: [(String, Double)] = [("ms", 0.001), ("s", 1), ("m", 60), ("h", 3600), ("d", 86_400), ("w", 604_800)]
        var rest = Substring(text.trimmingSpaces)
        guard !rest.isEmpty else { return nil }
        var total = 0.0
        while !rest.isEmpty {
            let digits = rest.prefix { $0.isNumber }
            guard !digits.isEmpty, let number = Double(digits) else { return nil }
            rest = rest.dropFirst(digits.count)
            guard let unit = units.first(where: { rest.hasPrefix($0.0) && !(($0.0 == "m") && rest.hasPrefix("ms")) })
            else { return nil }
            rest = rest.dropFirst(unit.0.count)
            total += number * unit.1
        }
        guard total > 0, total < Double(Int32.max) else { return nil }
        return Int(total.rounded(.up))
    }

    /// The shortest way to write `seconds`: `90` → `1m30s`.
    public static func format(_ seconds: Int) -> String {
        if seconds == 0 { return "0s" }
        var rest = seconds
        var text = ""
        for (unit, size) in [("d", 86_400), ("h", 3600), ("m", 60), ("s", 1)] where rest >= size {
            text += "\(rest / size)\(unit)"
            rest %= size
        }
        return text
    }
}

/// "Did you mean" by edit distance.
enum Suggestion {
    static func nearest(to word: String, among candidates: [String]) -> String? {
        let scored = candidates.map { ($0, distance(word.lowercased(), $0.lowercased())) }
        guard let best = scored.min(by: { $0.1 < $1.1 }) else { return nil }
        return best.1 <= max(2, word.count / 3) ? best.0 : nil
    }

    static func distance(_ a: String, _ b: String) -> Int {
        let a = Array(a)
        let b = Array(b)
        if a.isEmpty { return b.count }
        if b.isEmpty { return a.count }
        var previous = Array(0...b.count)
        for i in 1...a.count {
            var current = [i] + Array(repeating: 0, count: b.count)
            for j in 1...b.count {
                current[j] = Swift.min(
                    previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
            }
            previous = current
        }
        return previous[b.count]
    }
}
