import CSQLite
import Synchronization

/// A failure from SQLite, with its message; never carries bound values.
public struct SQLiteError: Error, CustomStringConvertible, Sendable {
    public var code: Int32
    public var message: String
    public var description: String { "SQLite error \(code): \(message)" }
}

/// One SQLite connection used from many tasks: every call takes a lock, so statements never
/// interleave. Statements are prepared once and kept: the box runs the same few dozen over and
/// over, and parsing them again was a fifth of its time per job.
public final class SQLiteDatabase: Sendable {
    private let handle: Mutex<Handle>
    private let storageFailed = Atomic<Bool>(false)

    /// False since a statement failed for want of storage (disk full, I/O error, read-only or
    /// corrupt file) and until a write succeeds again: what readiness reports, without a query.
    public var isWritable: Bool { !storageFailed.load(ordering: .relaxed) }

    /// Opens (creating) the database at `path` in WAL mode with foreign keys on.
    public init(path: String) throws {
        var db: OpaquePointer?
        // No SQLite mutex: the lock around the handle already serialises every call.
        let flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX
        let rc = sqlite3_open_v2(path, &db, flags, nil)
        guard rc == SQLITE_OK, let db else {
            let message = db.map { String(cString: sqlite3_errmsg($0)) } ?? "cannot open"
            sqlite3_close(db)
            throw SQLiteError(code: rc, message: "\(path): \(message)")
        }
        sqlite3_busy_timeout(db, Handle.busyWait)
        handle = Mutex(Handle(db: db))
        try execute("PRAGMA journal_mode = WAL")
        try execute("PRAGMA foreign_keys = ON")
        try execute("PRAGMA synchronous = NORMAL")
    }

    deinit {
        handle.withLock { $0.close() }
    }

    /// Runs statements that return no rows (several may be given, separated by `;`).
    public func execute(_ sql: String) throws {
        try handle.withLock { handle in
            var error: UnsafeMutablePointer<CChar>?
            let rc = sqlite3_exec(handle.db, sql, nil, nil, &error)
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
        try noting { try handle.withLock { try $0.run(sql, values) } }
    }

    /// Runs `body` in one transaction, with the lock held throughout.
    public func transaction<T>(_ body: (Connection) throws -> T) throws -> T {
        try noting {
            try handle.withLock { handle in
                try handle.run("BEGIN IMMEDIATE", [])
                do {
                    let result = try body(Connection(handle: handle))
                    try handle.run("COMMIT", [])
                    return result
                } catch {
                    // The transaction's own error is the one to report; a failed rollback leaves
                    // SQLite to roll back on its own, as it does when a COMMIT fails.
                    _ = try? handle.run("ROLLBACK", [])
                    throw error
                }
            }
        }
    }

    /// Runs `body`, remembering whether storage failed.
    private func noting<T>(_ body: () throws -> T) throws -> T {
        do {
            let result = try body()
            if storageFailed.load(ordering: .relaxed) { storageFailed.store(false, ordering: .relaxed) }
            return result
        } catch let error as SQLiteError {
            if Self.storageCodes.contains(error.code & 0xff) { storageFailed.store(true, ordering: .relaxed) }
            throw error
        }
    }

    /// SQLITE_IOERR, SQLITE_CORRUPT, SQLITE_FULL, SQLITE_CANTOPEN, SQLITE_READONLY, SQLITE_NOTADB.
    private static let storageCodes: Set<Int32> = [
        SQLITE_IOERR, SQLITE_CORRUPT, SQLITE_FULL, SQLITE_CANTOPEN, SQLITE_READONLY, SQLITE_NOTADB,
    ]

    /// The connection inside a transaction.
    public struct Connection {
        fileprivate let handle: Handle

        @discardableResult
        public func query(_ sql: String, _ values: [SQLiteValue] = []) throws -> [Row] {
            try handle.run(sql, values)
        }

        public var lastInsertID: Int64 { sqlite3_last_insert_rowid(handle.db) }
        public var changes: Int { Int(sqlite3_changes(handle.db)) }
    }
}

/// The connection and its prepared statements; only ever touched under the database's lock.
private final class Handle {
    let db: OpaquePointer
    private var statements: [String: OpaquePointer] = [:]
    /// Statements whose text is built at run time (lists of ids, filters) would otherwise grow
    /// the cache without bound.
    private static let cacheLimit = 256
    private static let transient = unsafeBitCast(-1, to: sqlite3_destructor_type.self)

    /// Milliseconds a statement waits for a lock another process holds.
    static let busyWait: Int32 = 5000
    /// Milliseconds a statement waits while another process is known to hold the database: one
    /// request's statements (and the periodic ones holding this connection meanwhile) would
    /// otherwise each wait `busyWait`, and add up to half a minute.
    static let busyProbe: Int32 = 100
    /// Whether the last write found the database held by another process.
    private var busy = false
    private var waiting = Handle.busyWait

    init(db: OpaquePointer) {
        self.db = db
    }

    /// Waits long for a lock, or briefly while another process is known to hold it.
    private func setWaiting() {
        let wait = busy ? Self.busyProbe : Self.busyWait
        guard wait != waiting else { return }
        sqlite3_busy_timeout(db, wait)
        waiting = wait
    }

    func close() {
        for statement in statements.values { sqlite3_finalize(statement) }
        statements = [:]
        sqlite3_close_v2(db)
    }

    private func prepare(_ sql: String) throws -> (statement: OpaquePointer, cached: Bool) {
        if let statement = statements[sql] { return (statement, true) }
        var statement: OpaquePointer?
        let cache = statements.count < Self.cacheLimit
        let flags = cache ? UInt32(SQLITE_PREPARE_PERSISTENT) : 0
        guard sqlite3_prepare_v3(db, sql, -1, flags, &statement, nil) == SQLITE_OK, let statement else {
            throw SQLiteError(code: sqlite3_errcode(db), message: String(cString: sqlite3_errmsg(db)))
        }
        if cache { statements[sql] = statement }
        return (statement, cache)
    }

    @discardableResult
    func run(_ sql: String, _ values: [SQLiteValue]) throws -> [Row] {
        setWaiting()
        var writes = false
        do {
            let rows = try step(sql, values, writes: &writes)
            // Reads go on while another process writes (WAL): only a write tells the lock is gone.
            if writes { busy = false }
            return rows
        } catch let error as SQLiteError {
            if error.code & 0xff == SQLITE_BUSY || error.code & 0xff == SQLITE_LOCKED { busy = true }
            throw error
        }
    }

    private func step(_ sql: String, _ values: [SQLiteValue], writes: inout Bool) throws -> [Row] {
        let (statement, cached) = try prepare(sql)
        writes = sqlite3_stmt_readonly(statement) == 0
        defer {
            if cached {
                sqlite3_reset(statement)
                sqlite3_clear_bindings(statement)
            } else {
                sqlite3_finalize(statement)
            }
        }
        for (index, value) in values.enumerated() {
            let i = Int32(index + 1)
            switch value {
            case .null: sqlite3_bind_null(statement, i)
            case .integer(let v): sqlite3_bind_int64(statement, i, v)
            case .real(let v): sqlite3_bind_double(statement, i, v)
            case .text(let v): sqlite3_bind_text(statement, i, v, -1, Self.transient)
            case .blob(let v):
                _ = v.withUnsafeBytes { sqlite3_bind_blob(statement, i, $0.baseAddress, Int32($0.count), Self.transient) }
            }
        }
        var rows: [Row] = []
        let columns = sqlite3_column_count(statement)
        while true {
            let rc = sqlite3_step(statement)
            if rc == SQLITE_DONE { break }
            guard rc == SQLITE_ROW else {
                throw SQLiteError(code: rc, message: String(cString: sqlite3_errmsg(db)))
            }
            var row: [SQLiteValue] = []
            row.reserveCapacity(Int(columns))
            for column in 0..<columns {
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

    public func isNull(_ i: Int) -> Bool {
        values[i] == .null
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
