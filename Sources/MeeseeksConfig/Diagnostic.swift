/// A place in a configuration file; line and column are 1-based.
public struct SourcePosition: Hashable, Sendable, Codable, Comparable, CustomStringConvertible {
    public var file: String
    public var line: Int
    public var column: Int

    public init(file: String, line: Int, column: Int) {
        self.file = file
        self.line = line
        self.column = column
    }

    /// The position of a whole file, for problems that have no better place.
    public static func file(_ path: String) -> SourcePosition {
        SourcePosition(file: path, line: 1, column: 1)
    }

    /// The same line, `count` characters further on.
    public func advanced(by count: Int) -> SourcePosition {
        SourcePosition(file: file, line: line, column: column + count)
    }

    public var description: String { "\(file):\(line):\(column)" }

    public static func < (a: SourcePosition, b: SourcePosition) -> Bool {
        (a.file, a.line, a.column) < (b.file, b.line, b.column)
    }
}

/// One finding about the configuration. Problems are values, not exceptions: loaders return the
/// model together with every diagnostic they found.
public struct Diagnostic: Error, Hashable, Sendable, Codable, CustomStringConvertible {
    public enum Severity: String, Hashable, Sendable, Codable {
        case error, warning, note
    }

    public var position: SourcePosition
    public var severity: Severity
    /// A stable identifier such as `unknown-key` or `selector-syntax`, for scripts and tests.
    public var code: String
    public var message: String

    public init(_ severity: Severity, _ code: String, at position: SourcePosition, _ message: String) {
        self.position = position
        self.severity = severity
        self.code = code
        self.message = message
    }

    public static func error(_ code: String, at position: SourcePosition, _ message: String) -> Diagnostic {
        Diagnostic(.error, code, at: position, message)
    }

    public static func warning(_ code: String, at position: SourcePosition, _ message: String) -> Diagnostic {
        Diagnostic(.warning, code, at: position, message)
    }

    /// Exactly `PATH:LINE:COL: error: MESSAGE`, as compilers print it.
    public var description: String { "\(position): \(severity.rawValue): \(message)" }

    // JSON shape for `meeseeks lint --format json`: flat, as editors expect.
    enum CodingKeys: String, CodingKey {
        case file, line, column, severity, code, message
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        position = SourcePosition(
            file: try c.decode(String.self, forKey: .file), line: try c.decode(Int.self, forKey: .line),
            column: try c.decode(Int.self, forKey: .column))
        severity = try c.decode(Severity.self, forKey: .severity)
        code = try c.decode(String.self, forKey: .code)
        message = try c.decode(String.self, forKey: .message)
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(position.file, forKey: .file)
        try c.encode(position.line, forKey: .line)
        try c.encode(position.column, forKey: .column)
        try c.encode(severity, forKey: .severity)
        try c.encode(code, forKey: .code)
        try c.encode(message, forKey: .message)
    }
}

extension Array where Element == Diagnostic {
    public var hasErrors: Bool { contains { $0.severity == .error } }
    public var errors: [Diagnostic] { filter { $0.severity == .error } }

    /// Sorted by file and position, the order a reader expects.
    public var sortedForDisplay: [Diagnostic] {
        sorted { ($0.position, $0.code, $0.message) < ($1.position, $1.code, $1.message) }
    }
}
