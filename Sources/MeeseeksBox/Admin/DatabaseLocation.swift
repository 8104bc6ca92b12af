import Foundation
import MeeseeksConfig

/// Where a box keeps its state: an SQLite file (one box), or a PostgreSQL database (one or
/// several boxes). Resolved the same way by `serve` and by the admin commands.
public enum DatabaseLocation: Sendable, Hashable, CustomStringConvertible {
    case sqlite(path: String)
    case postgres(url: String)

    /// `--db` (a path, `sqlite:PATH` or `postgres://…`), else `MEESEEKS_DB`, else
    /// `paths.database` of `meeseeks.yaml`, else `DIR/meeseeks.db`.
    public static func resolve(option: String?, environment: [String: String], configuration: Configuration?, directory: String)
        -> DatabaseLocation
    {
        let given = option ?? environment["MEESEEKS_DB"].flatMap { $0.isEmpty ? nil : $0 }
        if let given { return parse(given, directory: directory) }
        if let configured = configuration?.settings.paths.database {
            return parse(ConfigLoader.resolve(configured, in: directory), directory: directory)
        }
        return .sqlite(path: "\(directory)/meeseeks.db")
    }

    static func parse(_ text: String, directory: String) -> DatabaseLocation {
        if text.hasPrefix("postgres://") || text.hasPrefix("postgresql://") { return .postgres(url: text) }
        if text.hasPrefix("sqlite:") { return .sqlite(path: String(text.dropFirst("sqlite:".count))) }
        return .sqlite(path: text)
    }

    /// For logs and messages: never the password a URL may carry.
    public var description: String {
        switch self {
        case .sqlite(let path): "sqlite:\(path)"
        case .postgres(let url): Self.redacted(url)
        }
    }

    static func redacted(_ url: String) -> String {
        // The last '@' ends the credentials, as the URL parser reads them: a password may hold '@'.
        guard let scheme = url.range(of: "://"), let at = url[scheme.upperBound...].lastIndex(of: "@") else { return url }
        let credentials = url[scheme.upperBound..<at]
        guard let colon = credentials.firstIndex(of: ":") else { return url }
        return String(url[..<colon]) + ":***" + String(url[at...])
    }
}
