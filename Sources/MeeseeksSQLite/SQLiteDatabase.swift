import CSQLite
import Synchronization

/// A failure from SQLite, with its message; never carries bound values.
public struct SQLiteError: Error, CustomStringConvertible, Sendable {
    public var code: Int32
    public var message: String
    public var description: String { "SQLite error \(code): \(message)" }
}

/// One SQLite connection used from many tasks: every call takes a lock, so statements never
/// interleave. Calls are short; the box's write rate is tiny next to what SQLite sustains.
public final class SQLiteDatabase: Sendable {
    private let handle: Mutex<OpaquePointer?>

    /// Opens (creating) the database at `path` in WAL mode with foreign keys on.
    public init(path: String) throws {
        var db: OpaquePointer?
        let flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX
        let rc = sqlite3_open_v2(path, &db, flags, nil)
        guard rc == SQLITE_OK, let db else {
            let message = db.map { String(cString: sqlite3_errmsg($0)) } ?? "cannot open"
            sqlite3_close(db)
            throw SQLiteError(code: rc, message: "\(path): \(message)")
        }
        sqlite3_busy_timeout(db, 5000)
        handle = Mutex(db)
        try execute("PRAGMA journal_mode = WAL")
        try execute("PRAGMA foreign_keys = ON")
        try execute("PRAGMA synchronous = NORMAL")
    }

    deinit {
        handle.withLock { db in
            sqlite3_close_v2(db)
            db = nil
        }
    }

    /// Runs statements that return no rows (several may be given, separated by `;`).
    public func execute(_ sql: String) throws {
        try handle.withLock { db in
            var error: UnsafeMutablePointer<CChar>?
            let rc = sqlite3_exec(db, sql, nil, nil, &error)
            if rc != SQLITE_OK {
                let message = error.map { String(cString: $0) } ?? "unknown"
                sqlite3_free(error)
                throw SQLiteError(code: rc, message: message)
            }
        }
    }

    /// Runs one statement with bound values and returns its rows.
    @discardableResult
    public func query(_ sql: String, _ values: [SQLiteValue] = []) throws -> [Row] {
        try handle.withLock { db in try Self.run(db, sql, values) }
    }

    /// Runs `body` in one transaction, with the lock held throughout.
    public func transaction<T>(_ body: (Connection) throws -> T) throws -> T {
        try handle.withLock { db in
            try Self.run(db, "BEGIN IMMEDIATE", [])
            do {
                let result = try body(Connection(db: db))
                try Self.run(db, "COMMIT", [])
                return result
            } catch {
                _ = try? Self.run(db, "ROLLBACK", [])
                throw error
            }
        }
    }

    /// The connection inside a transaction.
    public struct Connection {
        fileprivate let db: OpaquePointer?

        @discardableResult
        public func query(_ sql: String, _ values: [SQLiteValue] = []) throws -> [Row] {
            try SQLiteDatabase.run(db, sql, values)
        }

        public var lastInsertID: Int64 { sqlite3_last_insert_rowid(db) }
        public var changes: Int { Int(sqlite3_changes(db)) }
    }

    private static let transient = unsafeBitCast(-1, to: sqlite3_destructor_type.self)

    fileprivate static func run(_ db: OpaquePointer?, _ sql: String, _ values: [SQLiteValue]) throws -> [Row] {
        var statement: OpaquePointer?
        guard sqlite3_prepare_v2(db, sql, -1, &statement, nil) == SQLITE_OK else {
            throw SQLiteError(code: sqlite3_errcode(db), message: String(cString: sqlite3_errmsg(db)))
        }
        defer { sqlite3_finalize(statement) }
        for (index, value) in values.enumerated() {
            let i = Int32(index + 1)
            switch value {
            case .null: sqlite3_bind_null(statement, i)
            case .integer(let v): sqlite3_bind_int64(statement, i, v)
            case .real(let v): sqlite3_bind_double(statement, i, v)
            case .text(let v): sqlite3_bind_text(statement, i, v, -1, transient)
            case .blob(let v):
                _ = v.withUnsafeBytes { sqlite3_bind_blob(statement, i, $0.baseAddress, Int32($0.count), transient) }
            }
        }
        var rows: [Row] = []
        while true {
            let rc = sqlite3_step(statement)
            if rc == SQLITE_DONE { break }
            guard rc == SQLITE_ROW else {
                throw SQLiteError(code: rc, message: String(cString: sqlite3_errmsg(db)))
            }
            var row: [SQLiteValue] = []
            for column in 0..<sqlite3_column_count(statement) {
                switch sqlite3_column_type(statement, column) {
                case SQLITE_INTEGER: row.append(.integer(sqlite3_column_int64(statement, column)))
                case SQLITE_FLOAT: row.append(.real(sqlite3_column_double(statement, column)))
                case SQLITE_TEXT: row.append(.text(String(cString: sqlite3_column_text(statement, column))))
                case SQLITE_BLOB:
                    let count = Int(sqlite3_column_bytes(statement, column))
                    if let pointer = sqlite3_column_blob(statement, column), count > 0 {
                        row.append(.blob(Array(UnsafeRawBufferPointer(start: pointer, count: count))))
                    } else {
                        row.append(.blob([]))
                    }
                default: row.append(.null)
                }
            }
            rows.append(Row(values: row))
        }
        return rows
    }
}

/// A value bound to or read from a statement.
public enum SQLiteValue: Sendable, Hashable {
    case null
    case integer(Int64)
    case real(Double)
    case text(String)
    case blob([UInt8])
}

/// One result row, read by column index.
public struct Row: Sendable {
    public var values: [SQLiteValue]

    public func int(_ i: Int) -> Int64? {
        if case .integer(let v) = values[i] { return v }
        return nil
    }

    public func double(_ i: Int) -> Double? {
        switch values[i] {
        case .real(let v): v
        case .integer(let v): Double(v)
        default: nil
        }
    }

    public func string(_ i: Int) -> String? {
        if case .text(let v) = values[i] { return v }
        return nil
    }

    public func blob(_ i: Int) -> [UInt8] {
        switch values[i] {
        case .blob(let v): v
        case .text(let v): Array(v.utf8)
        default: []
        }
    }
}

extension SQLiteValue {
    static func optional(_ value: String?) -> SQLiteValue { value.map { .text($0) } ?? .null }
    static func optional(_ value: Int64?) -> SQLiteValue { value.map { .integer($0) } ?? .null }
    static func optional(_ value: Int?) -> SQLiteValue { value.map { .integer(Int64($0)) } ?? .null }
    static func optional(_ value: Double?) -> SQLiteValue { value.map { .real($0) } ?? .null }
}
