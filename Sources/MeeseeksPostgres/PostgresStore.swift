import Foundation
public import Logging
public import MeeseeksCore
import Synchronization

/// The box's state in PostgreSQL: every store port SQLite implements, with the same behaviour,
/// plus what several boxes on one database need (the leader lease, fenced writes, the front
/// doors' inbox, LISTEN/NOTIFY).
///
/// Calls are synchronous: each waits for its statements on the caller's thread, over a small
/// pool of connections (see `BlockingConnectionPool`).
///
///     let store = try PostgresStore(url: "postgres://meeseeks@db:5432/meeseeks?sslmode=require", sealer: sealer)
///     defer { store.close() }
///     let (job, _) = try store.insert(Job(command: "deploy", arguments: [:], requester: "U1", createdAt: now), children: [], secrets: nil)
public final class PostgresStore: BoxStore, LeaseStore, FencedStore, InboxStore, ClusterSignals {
    let pool: BlockingConnectionPool
    /// Seals job secrets and dialog states; without one, storing either is refused.
    let sealer: (any SecretSealer)?
    /// The lease orchestration writes are conditioned on; nil when this box is alone.
    private let currentFence = Mutex<Lease?>(nil)

    /// Connects, and brings the schema up to date.
    ///
    /// - Parameters:
    ///   - settings: Where the database is; see `PostgresSettings(url:)`.
    ///   - sealer: The box's key; the same key must be used by every box of a cluster.
    ///   - logger: Where connection trouble is logged; nothing by default.
    public init(settings: PostgresSettings, sealer: (any SecretSealer)? = nil, logger: Logger? = nil) throws {
        pool = try BlockingConnectionPool(
            settings: settings, logger: logger ?? Logger(label: "meeseeks.postgres", factory: { _ in SwiftLogNoOpLogHandler() }))
        self.sealer = sealer
        do {
            try PostgresMigrations.apply(to: pool)
        } catch {
            pool.close()
            throw error
        }
    }

    /// Connects to the database a `postgres://` URL names; see `PostgresSettings(url:)`.
    public convenience init(url: String, sealer: (any SecretSealer)? = nil, logger: Logger? = nil) throws {
        try self.init(settings: try PostgresSettings(url: url), sealer: sealer, logger: logger)
    }

    /// Closes the connections. Calls made afterwards fail with `PostgresStoreError.Code.closed`.
    public func close() {
        pool.close()
    }

    public var settings: PostgresSettings { pool.settings }

    /// The schema version recorded in the database.
    public func schemaVersion() throws -> Int {
        try PostgresMigrations.version(in: pool)
    }

    func requireSealer() throws -> any SecretSealer {
        guard let sealer else { throw SealError.cannotSeal("this store was opened without the box's secret key") }
        return sealer
    }

    // MARK: Fencing

    public func fence(with lease: Lease?) {
        currentFence.withLock { $0 = lease }
    }

    /// ` AND meeseeks_fenced($e, $m)` when a fence is set, its values appended to `values`; empty
    /// otherwise. Every orchestration write ends its WHERE clause with it.
    func fenceCondition(_ values: inout [SQLValue]) -> String {
        guard let lease = currentFence.withLock({ $0 }) else { return "" }
        return Self.fenceCondition(lease, &values)
    }

    /// Raises (SQLSTATE MSF01) unless this box holds the fence's lease, and keeps the lease row
    /// locked until the transaction ends: for writes that have no WHERE clause to carry it.
    func checkFence(_ session: PostgresSession) throws {
        var values: [SQLValue] = []
        guard let lease = currentFence.withLock({ $0 }) else { return }
        let condition = Self.fenceCondition(lease, &values)
        try session.query("SELECT TRUE WHERE TRUE" + condition, values)
    }

    static func fenceCondition(_ lease: Lease, _ values: inout [SQLValue]) -> String {
        " AND meeseeks_fenced(\(values.bind(.int(lease.epoch)))::bigint, \(values.bind(.text(lease.member)))::text)"
    }

    // MARK: Rows

    /// `LIMIT $n`, or `LIMIT ALL` for a negative limit (SQLite reads `LIMIT -1` as no limit).
    static func limitClause(_ limit: Int, _ values: inout [SQLValue]) -> String {
        limit < 0 ? "LIMIT ALL" : "LIMIT \(values.bind(.int(Int64(limit))))"
    }

    static let jobColumns = """
        id, parent_id, command, arguments, requester, channel, selector, agent, status, exit_code, reason,
        created_at, started_at, finished_at, attempt, dialog_id, is_broadcast, not_before, confirmed, origin
        """

    static func job(from row: ResultRow) throws -> Job {
        Job(
            id: try row.int(0) ?? 0, parentID: try row.int(1), command: try row.string(2) ?? "",
            arguments: stringMap(try row.string(3) ?? ""), requester: try row.string(4) ?? "", channel: try row.string(5),
            selector: try row.string(6) ?? "", agent: try row.string(7),
            status: JobStatus(rawValue: try row.string(8) ?? "") ?? .lost, exitCode: try row.int(9).map(Int.init),
            reason: try row.string(10), createdAt: try row.double(11) ?? 0, startedAt: try row.double(12),
            finishedAt: try row.double(13), attempt: Int(try row.int(14) ?? 0), dialogID: try row.string(15),
            isBroadcast: try row.bool(16) ?? false, notBefore: try row.double(17) ?? 0, confirmed: try row.bool(18) ?? false,
            origin: try row.string(19))
    }

    /// A job's arguments, written by `encode` as a flat JSON object of strings. Only this store
    /// (or `meeseeks migrate`, copying SQLite's) writes the column, so a value that does not read
    /// back is a damaged row: it shows as no arguments rather than failing the whole listing.
    static func stringMap(_ text: String) -> [String: String] {
        if text.isEmpty || text == "{}" { return [:] }
        return (try? JSONSerialization.jsonObject(with: Data(text.utf8))) as? [String: String] ?? [:]
    }

    static func encode(stringMap: [String: String]) throws -> String {
        if stringMap.isEmpty { return "{}" }
        return String(decoding: try JSONSerialization.data(withJSONObject: stringMap, options: [.sortedKeys]), as: UTF8.self)
    }

    static func json<T: Encodable>(_ value: T) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return String(decoding: try encoder.encode(value), as: UTF8.self)
    }
}
