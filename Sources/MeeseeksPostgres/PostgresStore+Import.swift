/// A value of a history row, as the source store keeps it.
public enum HistoryValue: Sendable, Hashable {
    case null
    case integer(Int64)
    case real(Double)
    case text(String)
    case bytes([UInt8])
}

/// The tables of a box's history, in the order they are copied (jobs before their output).
public enum HistoryTable: String, CaseIterable, Sendable {
    case jobs
    case jobOutput = "job_output"
    case approvals
    case dialogs, agents, audit
    case apiTokens = "api_tokens"
    case outbox
    case messageRefs = "message_refs"
    case chatEvents = "chat_events"

    /// What each column holds, so a source's loosely typed values (SQLite's 0 and 1 for flags)
    /// are stored with the column's type.
    enum Kind { case integer, real, text, bytes, boolean }

    var typedColumns: [(name: String, kind: Kind)] {
        switch self {
        case .jobs:
            [
                ("id", .integer), ("parent_id", .integer), ("command", .text), ("arguments", .text), ("requester", .text),
                ("channel", .text), ("selector", .text), ("agent", .text), ("status", .text), ("exit_code", .integer),
                ("reason", .text), ("created_at", .real), ("started_at", .real), ("finished_at", .real), ("attempt", .integer),
                ("dialog_id", .text), ("is_broadcast", .boolean), ("output_bytes", .integer), ("output_dropped", .integer),
                ("secrets", .bytes), ("not_before", .real), ("handbacks", .integer), ("confirmed", .boolean), ("origin", .text),
            ]
        case .jobOutput: [("job_id", .integer), ("seq", .integer), ("offset", .integer), ("data", .bytes)]
        case .approvals: [("job_id", .integer), ("approver", .text), ("approved", .boolean), ("reason", .text), ("at", .real)]
        case .dialogs: [("id", .text), ("user", .text), ("state", .bytes), ("updated_at", .real), ("waiting", .boolean)]
        case .agents: [("id", .text), ("state", .text)]
        case .audit:
            [
                ("id", .integer), ("time", .real), ("action", .text), ("user", .text), ("command", .text), ("outcome", .text),
                ("reason", .text), ("job_id", .integer), ("detail", .text),
            ]
        case .apiTokens: [("name", .text), ("user", .text), ("hash", .text), ("created_at", .real), ("revoked", .boolean)]
        case .outbox:
            [
                ("id", .integer), ("order_key", .text), ("operation", .text), ("payload", .bytes), ("channel", .text),
                ("message_key", .text), ("attempts", .integer), ("not_before", .real), ("created_at", .real), ("state", .text),
                ("last_error", .text),
            ]
        case .messageRefs: [("key", .text), ("channel", .text), ("ts", .text), ("updated_at", .real)]
        case .chatEvents: [("id", .text), ("seen_at", .real)]
        }
    }

    /// The columns a source must give, in this order (the same names in SQLite and PostgreSQL).
    public var columns: [String] { typedColumns.map(\.name) }

    /// The tables whose ids come from a sequence, set past the copied ids afterwards.
    var hasIdentity: Bool { [.jobs, .audit, .outbox].contains(self) }
}

/// Where `meeseeks migrate` reads a box's history from.
public protocol HistorySource {
    /// Calls `body` with every row of `table`, in the order the rows were stored (a broadcast's
    /// parent before its children), each with the values of `columns` in that order.
    func forEachRow(of table: HistoryTable, columns: [String], _ body: ([HistoryValue]) throws -> Void) throws
}

extension PostgresStore {
    /// Copies a box's history into this store, ids and sealed values as they are, in one
    /// transaction: all of it or nothing. Sequences are then set past the copied ids.
    ///
    /// - Returns: How many rows each table received, in copy order.
    /// - Throws: `.targetNotEmpty` when this store already has history; `.unexpectedResult` when
    ///   a source value does not fit its column.
    public func importHistory(from source: some HistorySource) throws -> [(table: HistoryTable, rows: Int)] {
        try pool.transaction { session in
            let timeout: Duration = .seconds(3600)
            // One box's history, copied once: refuse to mix it with another's.
            try session.query(
                "LOCK TABLE \(HistoryTable.allCases.map(\.rawValue).joined(separator: ", ")) IN EXCLUSIVE MODE", timeout: timeout)
            for table in HistoryTable.allCases {
                if try session.query("SELECT 1 FROM \(table.rawValue) LIMIT 1").rows.isEmpty == false {
                    throw PostgresStoreError(
                        .targetNotEmpty,
                        "\(settings) already holds history (table \(table.rawValue) has rows); migrate into an empty database")
                }
            }
            var counts: [(table: HistoryTable, rows: Int)] = []
            for table in HistoryTable.allCases {
                var batch = HistoryBatch(table: table)
                try source.forEachRow(of: table, columns: table.columns) { values in
                    try batch.add(values)
                    if batch.isFull { try batch.flush(into: session, timeout: timeout) }
                }
                try batch.flush(into: session, timeout: timeout)
                counts.append((table, batch.total))
                if table.hasIdentity {
                    try session.query(
                        """
                        SELECT setval(pg_get_serial_sequence('\(table.rawValue)', 'id'),
                          COALESCE((SELECT MAX(id) FROM \(table.rawValue)), 1), (SELECT MAX(id) FROM \(table.rawValue)) IS NOT NULL)
                        """)
                }
            }
            return counts
        }
    }
}

/// Rows of one table waiting to be inserted together.
private struct HistoryBatch {
    let table: HistoryTable
    private(set) var values: [SQLValue] = []
    private(set) var rows = 0
    private(set) var total = 0
    private var bytes = 0

    init(table: HistoryTable) {
        self.table = table
    }

    /// Up to a thousand rows, at most about 8 MB and 30 000 parameters (PostgreSQL allows 65 535).
    var isFull: Bool { rows >= 1000 || bytes >= 8 << 20 || values.count + table.typedColumns.count > 30_000 }

    mutating func add(_ row: [HistoryValue]) throws {
        let columns = table.typedColumns
        guard row.count == columns.count else {
            throw PostgresStoreError(.unexpectedResult, "\(table.rawValue): a row has \(row.count) values, expected \(columns.count)")
        }
        for (value, column) in zip(row, columns) {
            let converted = try Self.convert(value, to: column.kind, at: "\(table.rawValue).\(column.name)")
            if case .bytes(let data) = converted { bytes += data.count }
            if case .text(let text) = converted { bytes += text.utf8.count }
            values.append(converted)
        }
        rows += 1
    }

    mutating func flush(into session: PostgresSession, timeout: Duration) throws {
        guard rows > 0 else { return }
        let width = table.typedColumns.count
        let tuples = (0..<rows).map { row in "(" + (1...width).map { "$\(row * width + $0)" }.joined(separator: ", ") + ")" }
        let columns = table.columns.map { "\"\($0)\"" }.joined(separator: ", ")
        try session.query("INSERT INTO \(table.rawValue) (\(columns)) VALUES \(tuples.joined(separator: ", "))", values, timeout: timeout)
        total += rows
        values = []
        rows = 0
        bytes = 0
    }

    /// A source value as the column's type: SQLite keeps flags as 0/1, lets a REAL column hold an
    /// integer, and a TEXT column bytes.
    private static func convert(_ value: HistoryValue, to kind: HistoryTable.Kind, at column: String) throws -> SQLValue {
        switch (value, kind) {
        case (.null, _): return .null
        case (.integer(let v), .integer): return .int(v)
        case (.integer(let v), .real): return .double(Double(v))
        case (.real(let v), .real): return .double(v)
        case (.integer(let v), .boolean): return .bool(v != 0)
        case (.text(let v), .text): return .text(v)
        case (.bytes(let v), .text): return .text(String(decoding: v, as: UTF8.self))
        case (.bytes(let v), .bytes): return .bytes(v)
        case (.text(let v), .bytes): return .bytes(Array(v.utf8))
        default: throw PostgresStoreError(.unexpectedResult, "\(column): \(describe(value)) does not fit a \(kind) column")
        }
    }

    private static func describe(_ value: HistoryValue) -> String {
        switch value {
        case .null: "NULL"
        case .integer: "an integer"
        case .real: "a real"
        case .text: "text"
        case .bytes: "a blob"
        }
    }
}
