import Foundation
public import MeeseeksCore

/// Jobs: the queue the dispatcher changes, and the history users read.
extension SQLiteStore {

    public func insert(_ job: Job, children: [Job], secrets: JobSecrets?) throws -> (Job, [Job]) {
        let sealer: (any SecretSealer)? = secrets == nil ? nil : try requireSealer()
        return try database.transaction { db in
            // A request carried out twice makes one job: the first is returned.
            if let origin = job.origin,
                let existing = try db.query("SELECT \(Self.jobColumns) FROM jobs WHERE origin = ?", [.text(origin)]).first.map(Self.job)
            {
                let children = try db.query(
                    "SELECT \(Self.jobColumns) FROM jobs WHERE parent_id = ? ORDER BY id", [.integer(existing.id)]
                ).map(Self.job)
                return (existing, children)
            }
            func add(_ job: Job) throws -> Job {
                try db.query(
                    """
                    INSERT INTO jobs (parent_id, command, arguments, requester, channel, selector, agent, status,
                      created_at, attempt, dialog_id, is_broadcast, origin)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                    """,
                    [
                        .optional(job.parentID), .text(job.command), .text(try Self.encode(stringMap: job.arguments)),
                        .text(job.requester), .optional(job.channel), .text(job.selector), .optional(job.agent),
                        .text(job.status.rawValue), .real(job.createdAt), .integer(Int64(job.attempt)),
                        .optional(job.dialogID), .integer(job.isBroadcast ? 1 : 0), .optional(job.parentID == nil ? job.origin : nil),
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
            var sql =
                "UPDATE jobs SET status = ?, exit_code = ?, reason = ?, finished_at = ?, secrets = NULL WHERE id = ? AND status IN ('queued','running','awaiting_approval')"
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

    public func keepSecrets(_ secrets: JobSecrets, of id: Int64) throws -> Bool {
        let sealed = try requireSealer().seal(secrets.encoded, context: "job:\(id)")
        return try database.transaction { db in
            try db.query("UPDATE jobs SET secrets = ? WHERE id = ? AND status = 'awaiting_approval'", [.blob(sealed), .integer(id)])
            return db.changes == 1
        }
    }

    public func release(_ id: Int64) throws -> Bool {
        try database.transaction { db in
            // The job itself must still be waiting: sub-jobs of an ended broadcast stay where they are.
            guard try db.query("SELECT 1 FROM jobs WHERE id = ? AND status = 'awaiting_approval'", [.integer(id)]).first != nil else {
                return false
            }
            try db.query(
                "UPDATE jobs SET status = 'queued' WHERE (id = ? OR parent_id = ?) AND status = 'awaiting_approval'",
                [.integer(id), .integer(id)])
            return db.changes > 0
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

    public func queued(after afterID: Int64, limit: Int) throws -> [Job] {
        try database.query(
            "SELECT \(Self.jobColumns) FROM jobs WHERE status = 'queued' AND is_broadcast = 0 AND id > ? ORDER BY id LIMIT ?",
            [.integer(afterID), .integer(Int64(max(0, limit)))]
        ).map(Self.job)
    }

    public func runningJobs() throws -> [Job] {
        try database.query("SELECT \(Self.jobColumns) FROM jobs WHERE status = 'running' AND is_broadcast = 0 ORDER BY id").map(Self.job)
    }
}
