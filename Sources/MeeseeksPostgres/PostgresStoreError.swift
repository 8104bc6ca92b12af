import PostgresNIO

/// A failure of the PostgreSQL store: what it was doing, what the server or the network said,
/// and the SQLSTATE when the server gave one. Never carries a password nor a bound value.
public struct PostgresStoreError: Error, CustomStringConvertible, Sendable {
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private enum Base: String, Hashable, Sendable {
            case invalidURL = "invalid database URL"
            case connectionFailed = "cannot connect"
            case connectionLost = "connection lost"
            case timedOut = "timed out"
            case poolExhausted = "no free connection"
            case closed = "store closed"
            case statementFailed = "statement failed"
            case unexpectedResult = "unexpected result"
            case schemaTooNew = "schema too new"
            case targetNotEmpty = "target not empty"
            case wrongKey = "wrong secret key"
        }

        private let base: Base
        private init(_ base: Base) { self.base = base }

        /// The URL cannot be read.
        public static let invalidURL = Self(.invalidURL)
        /// No connection could be made (refused, unreachable, authentication, TLS).
        public static let connectionFailed = Self(.connectionFailed)
        /// The connection broke during a statement; it may or may not have been applied.
        public static let connectionLost = Self(.connectionLost)
        /// A statement took longer than `statementTimeout`; its connection was closed.
        public static let timedOut = Self(.timedOut)
        /// Every connection stayed busy for `checkoutTimeout`.
        public static let poolExhausted = Self(.poolExhausted)
        /// The store was closed.
        public static let closed = Self(.closed)
        /// The server refused a statement (a constraint, a syntax error, a serialisation failure…).
        public static let statementFailed = Self(.statementFailed)
        /// A row did not have the shape this build expects.
        public static let unexpectedResult = Self(.unexpectedResult)
        /// The database was migrated by a newer build.
        public static let schemaTooNew = Self(.schemaTooNew)
        /// `meeseeks migrate` found history in the target.
        public static let targetNotEmpty = Self(.targetNotEmpty)
        /// The box's secret key is not the one the database's secrets were sealed with.
        public static let wrongKey = Self(.wrongKey)

        public var description: String { base.rawValue }
    }

    public var code: Code
    /// What was being done, and what went wrong.
    public var message: String
    /// The server's SQLSTATE (`23505` for a unique violation…), when it sent one.
    public var sqlState: String?

    init(_ code: Code, _ message: String, sqlState: String? = nil) {
        self.code = code
        self.message = message
        self.sqlState = sqlState
    }

    /// `context` followed by what `cause` says; a `PSQLError` is read field by field, since its
    /// own description says nothing and its debug description includes the query.
    init(_ code: Code, _ context: String, cause: any Error) {
        if let error = cause as? PostgresStoreError {
            self.init(error.code, "\(context): \(error.message)", sqlState: error.sqlState)
            return
        }
        guard let error = cause as? PSQLError else {
            self.init(code, "\(context): \(cause)")
            return
        }
        var parts: [String] = []
        if let info = error.serverInfo {
            parts.append(info[.message] ?? "the server refused it")
            if let detail = info[.detail] { parts.append("detail: \(detail)") }
            if let hint = info[.hint] { parts.append("hint: \(hint)") }
        } else {
            parts.append(String(describing: error.code))
            if let underlying = error.underlying { parts.append(String(describing: underlying)) }
        }
        self.init(code, "\(context): \(parts.joined(separator: "; "))", sqlState: error.serverInfo?[.sqlState])
    }

    public var description: String {
        "PostgreSQL \(code): \(message)" + (sqlState.map { " (SQLSTATE \($0))" } ?? "")
    }

    /// Whether the connection a statement ran on can be used again after this error: yes when
    /// the server refused the statement, no when the connection itself failed or the server
    /// ended the session (a FATAL error: terminated by an administrator, shutting down…).
    static func leavesConnectionUsable(_ error: any Error) -> Bool {
        if let error = error as? PSQLError {
            guard error.code == .server, let info = error.serverInfo else { return false }
            return !["FATAL", "PANIC"].contains(info[.severity] ?? info[.localizedSeverity] ?? "")
        }
        if let error = error as? PostgresStoreError { return error.code == .statementFailed || error.code == .unexpectedResult }
        return true
    }
}
