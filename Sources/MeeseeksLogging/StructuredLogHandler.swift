import Foundation
public import Logging

/// Log lines as logfmt (`ts=… level=info msg="…" job_id=42`) or JSON, one per line on stderr.
public struct StructuredLogHandler: LogHandler {
    let label: String
    let json: Bool
    public var logLevel: Logger.Level = .info
    public var metadata: Logger.Metadata = [:]

    public init(label: String, json: Bool) {
        self.label = label
        self.json = json
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        var fields: [(String, String)] = [
            ("ts", Date().formatted(Self.timestampStyle)),
            ("level", event.level.rawValue), ("msg", "\(event.message)"),
        ]
        let merged = metadata.merging(event.metadata ?? [:]) { _, new in new }
        for key in merged.keys.sorted() { fields.append((key, "\(merged[key]!)")) }
        let line: String
        if json {
            let object = Dictionary(fields, uniquingKeysWith: { _, last in last })
            // Every value is a string here, so encoding cannot fail; if it did, the line is empty
            // rather than the process stopping over a log line.
            let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])) ?? Data()
            line = String(decoding: data, as: UTF8.self)
        } else {
            line = fields.map { "\($0)=\(Self.quote($1))" }.joined(separator: " ")
        }
        let bytes = Array((line + "\n").utf8)
        bytes.withUnsafeBytes { _ = write(STDERR_FILENO, $0.baseAddress, $0.count) }
    }

    /// FoundationEssentials' ISO 8601 style: unlike `ISO8601DateFormatter` it does not wake ICU,
    /// whose pages were a sixth of an idle agent's memory.
    static let timestampStyle = Date.ISO8601FormatStyle(includingFractionalSeconds: true)

    static func quote(_ value: String) -> String {
        let plain = !value.isEmpty && value.allSatisfy { !$0.isWhitespace && $0 != "\"" && $0 != "=" && $0 != "\\" }
        if plain { return value }
        let escaped = value.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
            .replacingOccurrences(of: "\n", with: "\\n")
        return "\"\(escaped)\""
    }
}

/// `--log-format` values.
public enum LogFormat: String, CaseIterable, Sendable {
    case logfmt, json
}

extension StructuredLogHandler {
    /// Bootstraps swift-log once for the process and returns the root logger.
    public static func bootstrap(label: String, format: LogFormat, level: Logger.Level) -> Logger {
        LoggingSystem.bootstrap { label in
            var handler = StructuredLogHandler(label: label, json: format == .json)
            handler.logLevel = level
            return handler
        }
        return Logger(label: label)
    }
}
