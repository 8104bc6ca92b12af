/// Text with `{{name}}` placeholders, such as `Restart {{service}} on {{targets}}?`.
public struct Template: Hashable, Sendable, Codable, CustomStringConvertible {
    public static func == (a: Template, b: Template) -> Bool { a.source == b.source }
    public func hash(into hasher: inout Hasher) { hasher.combine(source) }

    public enum Part: Hashable, Sendable, Codable {
        case literal(String)
        case placeholder(String)
    }

    public let source: String
    public let parts: [Part]

    /// Placeholder names with the character offset of their `{{` in `source`, for diagnostics.
    public let placeholders: [(name: String, offset: Int)]

    /// Splits `source` into literals and placeholders. `{{ name }}` may carry spaces; an unclosed
    /// `{{` stays literal text (and lint reports it).
    public init(_ source: String) {
        self.source = source
        var parts: [Part] = []
        var placeholders: [(String, Int)] = []
        var rest = Substring(source)
        while let open = rest.firstRange(of: "{{") {
            guard let close = rest[open.upperBound...].firstRange(of: "}}") else { break }
            if open.lowerBound > rest.startIndex { parts.append(.literal(String(rest[..<open.lowerBound]))) }
            let name = String(rest[open.upperBound..<close.lowerBound]).trimmingSpaces
            parts.append(.placeholder(name))
            placeholders.append((name, source.distance(from: source.startIndex, to: open.lowerBound)))
            rest = rest[close.upperBound...]
        }
        if !rest.isEmpty { parts.append(.literal(String(rest))) }
        self.parts = parts
        self.placeholders = placeholders
    }

    /// True when `{{` appears without a matching `}}`.
    public var hasUnclosedPlaceholder: Bool {
        parts.contains { if case .literal(let text) = $0 { return text.contains("{{") } else { return false } }
    }

    /// Fills placeholders from `values`; unknown names are left as written.
    public func render(_ values: [String: String]) -> String {
        parts.map { part in
            switch part {
            case .literal(let text): text
            case .placeholder(let name): values[name] ?? "{{\(name)}}"
            }
        }.joined()
    }

    public var description: String { source }

    public init(from decoder: any Decoder) throws {
        self.init(try decoder.singleValueContainer().decode(String.self))
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(source)
    }
}

extension String {
    public var trimmingSpaces: String {
        var s = Substring(self)
        while let first = s.first, first.isWhitespace { s.removeFirst() }
        while let last = s.last, last.isWhitespace { s.removeLast() }
        return String(s)
    }
}
