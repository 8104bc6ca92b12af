import Foundation
public import MeeseeksCore

/// The box's state in one SQLite file (WAL mode).
public final class SQLiteStore: JobStore {
    public let database: SQLiteDatabase
    /// Seals job secrets and dialog states; without one, storing either is refused.
    let sealer: (any SecretSealer)?

    /// Opens or creates the store at `path` and brings its schema up to date.
    public init(path: String, sealer: (any SecretSealer)? = nil) throws {
        database = try SQLiteDatabase(path: path)
        self.sealer = sealer
        try Migrations.apply(to: database)
    }

    static let jobColumns = """
        id, parent_id, command, arguments, requester, channel, selector, agent, status, exit_code, reason,
        created_at, started_at, finished_at, attempt, dialog_id, is_broadcast, not_before, confirmed
        """

    func requireSealer() throws -> any SecretSealer {
        guard let sealer else { throw SealError.cannotSeal("this store was opened without the box's secret key") }
        return sealer
    }

    static func job(from row: Row) -> Job {
        let arguments = stringMap(row.blob(3))
        return Job(
            id: row.int(0) ?? 0, parentID: row.int(1), command: row.string(2) ?? "", arguments: arguments,
            requester: row.string(4) ?? "", channel: row.string(5), selector: row.string(6) ?? "", agent: row.string(7),
            status: JobStatus(rawValue: row.string(8) ?? "") ?? .lost, exitCode: row.int(9).map(Int.init),
            reason: row.string(10), createdAt: row.double(11) ?? 0, startedAt: row.double(12),
            finishedAt: row.double(13), attempt: Int(row.int(14) ?? 0), dialogID: row.string(15),
            isBroadcast: row.int(16) == 1, notBefore: row.double(17) ?? 0, confirmed: row.int(18) == 1)
    }

    /// A job's arguments, written by `encode` as a flat JSON object of strings. Read without
    /// Codable: `JSONDecoder` was a sixth of the box's time per job, and most jobs have none.
    static func stringMap(_ bytes: [UInt8]) -> [String: String] {
        if bytes.isEmpty || bytes == Array("{}".utf8) { return [:] }
        return (try? JSONSerialization.jsonObject(with: Data(bytes))) as? [String: String] ?? [:]
    }

    static func encode(stringMap: [String: String]) -> String {
        if stringMap.isEmpty { return "{}" }
        let data = (try? JSONSerialization.data(withJSONObject: stringMap, options: [.sortedKeys])) ?? Data("{}".utf8)
        return String(decoding: data, as: UTF8.self)
    }

    private static func encode<T: Encodable>(_ value: T) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return String(decoding: (try? encoder.encode(value)) ?? Data(), as: UTF8.self)
    }

    // MARK: Jobs

    public func insert(_ job: Job, children: [Job], secrets: JobSecrets?) throws -> (Job, [Job]) {
        let sealer: (any SecretSealer)? = secrets == nil ? nil : try requireSealer()
        return try database.transaction { db in
            func add(_ job: Job) throws -> Job {
                try db.query(
                    """
                    INSERT INTO jobs (parent_id, command, arguments, requester, channel, selector, agent, status,
                      created_at, attempt, dialog_id, is_broadcast)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                    """,
                    [
                        .optional(job.parentID), .text(job.command), .text(Self.encode(stringMap: job.arguments)),
                        .text(job.requester), .optional(job.channel), .text(job.selector), .optional(job.agent),
                        .text(job.status.rawValue), .real(job.createdAt), .integer(Int64(job.attempt)),
                        .optional(job.dialogID), .integer(job.isBroadcast ? 1 : 0),
                    ])
                var stored = job
                stored.id = db.lastInsertID
                // Each job that runs holds its own sealed copy, bound to its id.
                if let secrets, let sealer, !job.isBroadcast, !secrets.isEmpty {
                    let sealed = try sealer.seal(secrets.encoded, context: "job:\(stored.id)")
                    try db.query("UPDATE jobs SET secrets = ? WHERE id = ?", [.blob(sealed), .integer(stored.id)])
                }
                return stored
            }
            let parent = try add(job)
            let stored = try children.map { child in
                var child = child
                child.parentID = parent.id
                return try add(child)
            }
            return (parent, stored)
        }
    }

    public func job(_ id: Int64) throws -> Job? {
        try database.query("SELECT \(Self.jobColumns) FROM jobs WHERE id = ?", [.integer(id)]).first.map(Self.job)
    }

    public func jobs(_ query: JobQuery) throws -> [Job] {
        var clauses: [String] = []
        var values: [SQLiteValue] = []
        if let requester = query.requester {
            clauses.append("requester = ?")
            values.append(.text(requester))
        }
        if let statuses = query.statuses {
            clauses.append("status IN (\(statuses.map { _ in "?" }.joined(separator: ",")))")
            values += statuses.sorted { $0.rawValue < $1.rawValue }.map { .text($0.rawValue) }
        }
        if let parent = query.parentID {
            clauses.append("parent_id = ?")
            values.append(.integer(parent))
        }
        if query.topLevelOnly { clauses.append("parent_id IS NULL") }
        if let after = query.afterID {
            clauses.append("id > ?")
            values.append(.integer(after))
        }
        let whereClause = clauses.isEmpty ? "" : "WHERE " + clauses.joined(separator: " AND ")
        values.append(.integer(Int64(query.limit)))
        return try database.query(
            "SELECT \(Self.jobColumns) FROM jobs \(whereClause) ORDER BY id \(query.oldestFirst ? "ASC" : "DESC") LIMIT ?",
            values
        ).map(Self.job)
    }

    public func start(_ id: Int64, agent: String, at time: Double) throws -> Job? {
        try database.transaction { db in
            try db.query(
                "UPDATE jobs SET status = 'running', agent = ?, started_at = ?, attempt = attempt + 1, confirmed = 0 WHERE id = ? AND status = 'queued'",
                [.text(agent), .real(time), .integer(id)])
            guard db.changes == 1 else { return nil }
            return try db.query("SELECT \(Self.jobColumns) FROM jobs WHERE id = ?", [.integer(id)]).first.map(Self.job)
        }
    }

    public func finish(_ id: Int64, attempt: Int?, outcome: JobOutcome, at time: Double) throws -> Job? {
        try database.transaction { db in
            // The job's secrets go with its end: nothing can dispatch it again.
            var sql = "UPDATE jobs SET status = ?, exit_code = ?, reason = ?, finished_at = ?, secrets = NULL WHERE id = ? AND status IN ('queued','running')"
            var values: [SQLiteValue] = [
                .text(outcome.status.rawValue), .optional(outcome.exitCode), .optional(outcome.reason), .real(time),
                .integer(id),
            ]
            if let attempt {
                sql += " AND attempt = ?"
                values.append(.integer(Int64(attempt)))
            }
            try db.query(sql, values)
            guard db.changes == 1 else { return nil }
            return try db.query("SELECT \(Self.jobColumns) FROM jobs WHERE id = ?", [.integer(id)]).first.map(Self.job)
        }
    }

    public func requeue(_ id: Int64, attempt: Int, notBefore: Double) throws -> Bool {
        try database.transaction { db in
            try db.query(
                """
                UPDATE jobs SET status = 'queued', started_at = NULL, not_before = ?, handbacks = handbacks + 1, confirmed = 0,
                  agent = CASE WHEN parent_id IS NULL THEN NULL ELSE agent END
                WHERE id = ? AND status = 'running' AND attempt = ?
                """,
                [.real(notBefore), .integer(id), .integer(Int64(attempt))])
            return db.changes == 1
        }
    }

    public func handbacks(_ id: Int64) throws -> Int {
        Int(try database.query("SELECT handbacks FROM jobs WHERE id = ?", [.integer(id)]).first?.int(0) ?? 0)
    }

    public func confirmStarted(_ id: Int64, attempt: Int) throws -> Bool {
        try database.transaction { db in
            try db.query(
                "UPDATE jobs SET confirmed = 1 WHERE id = ? AND attempt = ? AND status = 'running' AND confirmed = 0",
                [.integer(id), .integer(Int64(attempt))])
            return db.changes == 1
        }
    }

    public func secrets(of id: Int64) throws -> JobSecrets? {
        guard let row = try database.query("SELECT secrets FROM jobs WHERE id = ?", [.integer(id)]).first, !row.isNull(0) else {
            return nil
        }
        let plain = try requireSealer().open(row.blob(0), context: "job:\(id)")
        guard let secrets = JobSecrets(decoding: plain) else { throw SealError.unreadable }
        return secrets
    }

    // MARK: Output

    public func appendOutput(_ id: Int64, _ bytes: [UInt8], limit: Int) throws {
        guard !bytes.isEmpty else { return }
        try database.transaction { db in
            guard let row = try db.query("SELECT output_bytes, output_dropped FROM jobs WHERE id = ?", [.integer(id)]).first
            else { return }
            let size = Int(row.int(0) ?? 0)
            let dropped = Int(row.int(1) ?? 0)
            let room = max(0, limit - size)
            var chunk = Array(bytes.prefix(room))
            let newlyDropped = bytes.count - chunk.count
            if newlyDropped > 0, dropped == 0 {
                chunk += Array("\n[… output truncated: this job printed more than \(limit) bytes; the rest was not kept …]\n".utf8)
            }
            if !chunk.isEmpty {
                let seq = (try db.query("SELECT COALESCE(MAX(seq), 0) + 1 FROM job_output WHERE job_id = ?", [.integer(id)])
                    .first?.int(0)) ?? 1
                try db.query(
                    "INSERT INTO job_output (job_id, seq, offset, data) VALUES (?, ?, ?, ?)",
                    [.integer(id), .integer(seq), .integer(Int64(size)), .blob(chunk)])
            }
            try db.query(
                "UPDATE jobs SET output_bytes = output_bytes + ?, output_dropped = output_dropped + ? WHERE id = ?",
                [.integer(Int64(chunk.count)), .integer(Int64(newlyDropped)), .integer(id)])
        }
    }

    public func output(_ id: Int64, from offset: Int, limit: Int) throws -> [UInt8] {
        // The window's end saturates: an offset near Int.max reads nothing rather than trapping.
        let offset = max(0, offset)
        let end = offset.addingReportingOverflow(max(0, limit)).overflow ? Int.max : offset + max(0, limit)
        let rows = try database.query(
            "SELECT offset, data FROM job_output WHERE job_id = ? AND offset + length(data) > ? AND offset < ? ORDER BY seq",
            [.integer(id), .integer(Int64(offset)), .integer(Int64(end))])
        var result: [UInt8] = []
        for row in rows {
            let start = Int(row.int(0) ?? 0)
            let data = row.blob(1)
            let from = max(0, offset - start)
            let to = min(data.count, end - start)
            if from < to { result += data[from..<to] }
        }
        return result
    }

    public func outputSize(_ id: Int64) throws -> Int {
        Int(try database.query("SELECT output_bytes FROM jobs WHERE id = ?", [.integer(id)]).first?.int(0) ?? 0)
    }

    public func queueStats() throws -> (depth: Int, oldest: Double?) {
        let row = try database.query("SELECT COUNT(*), MIN(created_at) FROM jobs WHERE status = 'queued' AND is_broadcast = 0").first
        return (Int(row?.int(0) ?? 0), row?.double(1))
    }

    // MARK: Dialogs and agents

    public func save(_ dialog: Dialog) throws {
        // Sealed whole: an open dialog holds the answers given so far, secrets among them.
        let state = try requireSealer().seal(Array(Self.encode(dialog).utf8), context: "dialog:\(dialog.id)")
        try database.query(
            """
            INSERT INTO dialogs (id, user, state, updated_at, waiting) VALUES (?, ?, ?, ?, ?)
            ON CONFLICT(id) DO UPDATE SET state = excluded.state, updated_at = excluded.updated_at, waiting = excluded.waiting
            """,
            [.text(dialog.id), .text(dialog.user), .blob(state), .real(dialog.updatedAt), .integer(dialog.phase.isInteractive ? 1 : 0)])
    }

    public func idleDialogs(before time: Double, limit: Int) throws -> [String] {
        try database.query(
            "SELECT id FROM dialogs WHERE waiting = 1 AND updated_at < ? ORDER BY updated_at LIMIT ?", [.real(time), .integer(Int64(limit))]
        ).compactMap { $0.string(0) }
    }

    public func dialog(_ id: String) throws -> Dialog? {
        guard let row = try database.query("SELECT state FROM dialogs WHERE id = ?", [.text(id)]).first else { return nil }
        let stored = row.blob(0)
        // Dialogs saved before sealing are plain JSON; they are sealed at their next save.
        let plain = stored.first == UInt8(ascii: "{") ? stored : try requireSealer().open(stored, context: "dialog:\(id)")
        return try JSONDecoder().decode(Dialog.self, from: Data(plain))
    }

    public func save(_ agent: AgentRecord) throws {
        try database.query(
            "INSERT INTO agents (id, state) VALUES (?, ?) ON CONFLICT(id) DO UPDATE SET state = excluded.state",
            [.text(agent.id), .text(Self.encode(agent))])
    }

    public func agents() throws -> [AgentRecord] {
        try database.query("SELECT state FROM agents ORDER BY id").compactMap {
            try? JSONDecoder().decode(AgentRecord.self, from: Data($0.blob(0)))
        }
    }

    // MARK: Audit

    public func append(_ record: AuditRecord, at time: Double) throws {
        try database.query(
            "INSERT INTO audit (time, action, user, command, outcome, reason, job_id, detail) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            [
                .real(time), .text(record.action), .text(record.user), .optional(record.command), .text(record.outcome),
                .optional(record.reason), .optional(record.jobID), .optional(record.detail),
            ])
    }

    public func audit(_ query: AuditQuery) throws -> [AuditEntry] {
        var clauses: [String] = []
        var values: [SQLiteValue] = []
        for (column, value) in [("user", query.user), ("command", query.command), ("outcome", query.outcome)] {
            if let value {
                clauses.append("\(column) = ?")
                values.append(.text(value))
            }
        }
        if let since = query.since {
            clauses.append("time >= ?")
            values.append(.real(since))
        }
        if let until = query.until {
            clauses.append("time <= ?")
            values.append(.real(until))
        }
        let whereClause = clauses.isEmpty ? "" : "WHERE " + clauses.joined(separator: " AND ")
        values.append(.integer(Int64(query.limit)))
        let rows = try database.query(
            "SELECT id, time, action, user, command, outcome, reason, job_id, detail FROM audit \(whereClause) ORDER BY id DESC LIMIT ?",
            values)
        return rows.map { row in
            AuditEntry(
                id: row.int(0) ?? 0, time: row.double(1) ?? 0,
                record: AuditRecord(
                    action: row.string(2) ?? "", user: row.string(3) ?? "", command: row.string(4),
                    outcome: row.string(5) ?? "", reason: row.string(6), jobID: row.int(7), detail: row.string(8)))
        }.reversed()
    }

    // MARK: Tokens

    public func saveToken(_ token: APIToken) throws {
        try database.query(
            "INSERT INTO api_tokens (name, user, hash, created_at, revoked) VALUES (?, ?, ?, ?, ?)",
            [.text(token.name), .text(token.user), .text(token.hash), .real(token.createdAt), .integer(token.revoked ? 1 : 0)])
    }

    public func token(hash: String) throws -> APIToken? {
        try database.query("SELECT name, user, hash, created_at, revoked FROM api_tokens WHERE hash = ?", [.text(hash)])
            .first.map(Self.token)
    }

    public func tokens() throws -> [APIToken] {
        try database.query("SELECT name, user, hash, created_at, revoked FROM api_tokens ORDER BY name").map(Self.token)
    }

    static func token(_ row: Row) -> APIToken {
        APIToken(
            name: row.string(0) ?? "", user: row.string(1) ?? "", hash: row.string(2) ?? "",
            createdAt: row.double(3) ?? 0, revoked: row.int(4) == 1)
    }

    public func revokeToken(name: String) throws -> Bool {
        try database.transaction { db in
            try db.query("UPDATE api_tokens SET revoked = 1 WHERE name = ? AND revoked = 0", [.text(name)])
            return db.changes == 1
        }
    }

    public func purge(before time: Double) throws -> Int {
        try database.transaction { db in
            try db.query(
                "DELETE FROM jobs WHERE finished_at < ? AND parent_id IS NULL AND status NOT IN ('queued','running')",
                [.real(time)])
            let jobs = db.changes
            try db.query("DELETE FROM dialogs WHERE updated_at < ?", [.real(time)])
            try db.query("DELETE FROM audit WHERE time < ?", [.real(time)])
            try db.query("DELETE FROM outbox WHERE state != 'pending' AND created_at < ?", [.real(time)])
            return jobs
        }
    }
}
