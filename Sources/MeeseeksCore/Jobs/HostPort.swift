import MeeseeksConfig

/// `HOST:PORT` as operators write it (`box.internal:9090`, `10.0.0.5:9090`, `[::1]:9090`): the one
/// parser for every listener and every address an agent dials.
public struct HostPort: Hashable, Sendable, CustomStringConvertible {
    public var host: String
    public var port: Int

    public init(host: String, port: Int) {
        self.host = host
        self.port = port
    }

    public struct Problem: Error, Hashable, Sendable, CustomStringConvertible {
        public var description: String
    }

    /// Parses `text`; port 0 ("pick a free one") only when `allowAnyPort`.
    public init(parsing text: String, allowAnyPort: Bool = false) throws(Problem) {
        let trimmed = text.trimmingSpaces
        guard let colon = trimmed.lastIndex(of: ":"), colon != trimmed.startIndex,
            let port = Int(trimmed[trimmed.index(after: colon)...]), (allowAnyPort ? 0 : 1)...65535 ~= port
        else {
            throw Problem(description: "expected HOST:PORT, such as 127.0.0.1:9090; got '\(text)'")
        }
        var host = String(trimmed[..<colon])
        if host.hasPrefix("["), host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        guard !host.isEmpty, !host.contains(where: { $0.isWhitespace || $0 == "/" }) else {
            throw Problem(description: "expected HOST:PORT, such as 127.0.0.1:9090; got '\(text)'")
        }
        self.host = host
        self.port = port
    }

    /// A comma-separated list, in order, without repeats.
    public static func list(_ text: String) throws(Problem) -> [HostPort] {
        var seen: [HostPort] = []
        for part in text.split(separator: ",") {
            let address = try HostPort(parsing: String(part))
            if !seen.contains(address) { seen.append(address) }
        }
        guard !seen.isEmpty else { throw Problem(description: "expected one or more HOST:PORT, comma-separated; got '\(text)'") }
        return seen
    }

    public var description: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }
}
