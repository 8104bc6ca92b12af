import Logging
import NIOCore
import PostgresNIO
import Synchronization

/// A value bound to a statement's `$n` placeholder.
enum SQLValue: Sendable, Hashable {
    case null
    case int(Int64)
    case double(Double)
    case text(String)
    case bytes([UInt8])
    case bool(Bool)

    static func optional(_ value: String?) -> SQLValue { value.map { .text($0) } ?? .null }
    static func optional(_ value: Int64?) -> SQLValue { value.map { .int($0) } ?? .null }
    static func optional(_ value: Int?) -> SQLValue { value.map { .int(Int64($0)) } ?? .null }
    static func optional(_ value: Double?) -> SQLValue { value.map { .double($0) } ?? .null }
    static func optional(_ value: [UInt8]?) -> SQLValue { value.map { .bytes($0) } ?? .null }

    fileprivate func bind(into bindings: inout PostgresBindings) {
        switch self {
        case .null: bindings.appendNull()
        case .int(let value): bindings.append(value)
        case .double(let value): bindings.append(value)
        case .text(let value): bindings.append(value)
        // As a buffer: postgres-nio sends `[UInt8]` as an array of "char", not as bytea.
        case .bytes(let value): bindings.append(ByteBuffer(bytes: value))
        case .bool(let value): bindings.append(value)
        }
    }
}

extension [SQLValue] {
    /// Appends `value` and returns its placeholder (`$n`), for statements built piece by piece.
    mutating func bind(_ value: SQLValue) -> String {
        append(value)
        return "$\(count)"
    }
}

/// The rows a statement returned and how many rows it changed.
struct QueryResult: Sendable {
    var rows: [ResultRow]
    var rowsAffected: Int
}

/// One result row, read by column index; a NULL reads as nil.
struct ResultRow: Sendable {
    let cells: PostgresRandomAccessRow

    func int(_ index: Int) throws -> Int64? { try decode(index, as: Int64.self) }
    func double(_ index: Int) throws -> Double? { try decode(index, as: Double.self) }
    func string(_ index: Int) throws -> String? { try decode(index, as: String.self) }
    func bool(_ index: Int) throws -> Bool? { try decode(index, as: Bool.self) }
    func bytes(_ index: Int) throws -> [UInt8]? { try decode(index, as: ByteBuffer.self).map { Array($0.readableBytesView) } }

    private func decode<T: PostgresDecodable>(_ index: Int, as type: T.Type) throws -> T? {
        let cell = cells[index]
        guard cell.bytes != nil else { return nil }
        do {
            return try cell.decode(T.self)
        } catch {
            // postgres-nio's error would carry the cell's bytes, which may be a sealed secret.
            throw PostgresStoreError(.unexpectedResult, "column \(cell.columnName) (\(cell.dataType)) does not read as \(T.self)")
        }
    }
}

/// A connection checked out of the pool: for one statement, or for every statement of one
/// transaction.
struct PostgresSession {
    let connection: PostgresConnection
    let logger: Logger
    let statementTimeout: Duration

    /// Runs one statement and waits for all its rows.
    ///
    /// - Parameters:
    ///   - sql: One statement, with `$1`, `$2`… for `values`.
    ///   - timeout: Overrides the pool's `statementTimeout` (migrations and imports take longer).
    /// - Throws: `PostgresStoreError`: `.statementFailed` when the server refused it (the
    ///   connection stays usable), `.timedOut` or `.connectionLost` when the connection failed.
    @discardableResult
    func query(_ sql: String, _ values: [SQLValue] = [], timeout: Duration? = nil) throws -> QueryResult {
        var bindings = PostgresBindings(capacity: values.count)
        for value in values { value.bind(into: &bindings) }
        let limit = timeout ?? statementTimeout
        let expired = TimeoutFlag()
        let connection = connection
        let result = connection.query(PostgresQuery(unsafeSQL: sql, binds: bindings), logger: logger)
        // A database that stops answering (a network partition) would otherwise block the caller
        // for ever: closing the connection fails the statement.
        let timer = connection.eventLoop.scheduleTask(in: .nanoseconds(limit.nanoseconds)) {
            expired.fire()
            let _: EventLoopFuture<Void> = connection.close()
        }
        result.whenComplete { _ in timer.cancel() }
        do {
            let answer = try result.wait()
            return QueryResult(rows: answer.rows.map { ResultRow(cells: $0.makeRandomAccess()) }, rowsAffected: answer.metadata.rows ?? 0)
        } catch {
            let what = Self.summary(of: sql)
            if expired.hasFired { throw PostgresStoreError(.timedOut, "\(what) took more than \(limit)") }
            if PostgresStoreError.leavesConnectionUsable(error) && !connection.isClosed {
                throw PostgresStoreError(.statementFailed, what, cause: error)
            }
            throw PostgresStoreError(.connectionLost, what, cause: error)
        }
    }

    /// The statement's start, for error messages: its text holds placeholders, never values.
    static func summary(of sql: String) -> String {
        let words = sql.split(whereSeparator: \.isWhitespace).prefix(6).joined(separator: " ")
        return words.count > 60 ? String(words.prefix(60)) + "…" : words
    }
}

/// Set once a statement's timer fired.
private final class TimeoutFlag: Sendable {
    private let fired = Atomic<Bool>(false)
    func fire() { fired.store(true, ordering: .relaxed) }
    var hasFired: Bool { fired.load(ordering: .relaxed) }
}
