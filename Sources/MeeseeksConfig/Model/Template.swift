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
        // Scans UTF-8 bytes: braces are ASCII, so byte positions are safe cut points.
        let bytes = Array(source.utf8)
        var literalStart = 0
        var index = 0
        var unclosed = false
        // Characters before `counted`, kept as the scan goes: counting from the start for every
        // placeholder made a run of 60,000 placeholders take a minute to lint.
        var counted = 0
        var characters = 0
        while index + 1 < bytes.count {
            guard bytes[index] == UInt8(ascii: "{"), bytes[index + 1] == UInt8(ascii: "{") else {
                index += 1
                continue
            }
            var close = index + 2
            while close + 1 < bytes.count, !(bytes[close] == UInt8(ascii: "}") && bytes[close + 1] == UInt8(ascii: "}")) {
                close += 1
            }
            guard close + 1 < bytes.count else {
                unclosed = true
                break
            }
            if index > literalStart { parts.append(.literal(String(decoding: bytes[literalStart..<index], as: UTF8.self))) }
            let name = String(decoding: bytes[(index + 2)..<close], as: UTF8.self).trimmingSpaces
            parts.append(.placeholder(name))
            characters += String(decoding: bytes[counted..<index], as: UTF8.self).count
            counted = index
            placeholders.append((name, characters))
            index = close + 2
            literalStart = index
        }
        if literalStart < bytes.count { parts.append(.literal(String(decoding: bytes[literalStart...], as: UTF8.self))) }
        self.parts = parts
        self.placeholders = placeholders
        self.hasUnclosedPlaceholder = unclosed
    }

    /// True when `{{` appears without a matching `}}`.
    public let hasUnclosedPlaceholder: Bool

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
