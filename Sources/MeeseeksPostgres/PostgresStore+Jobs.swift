public import MeeseeksCore

/// Jobs: the queue the dispatcher changes (fenced when a lease is set), and the history users read.
extension PostgresStore {

    public func insert(_ job: Job, children: [Job], secrets: JobSecrets?) throws -> (Job, [Job]) {
        let sealer: (any SecretSealer)? = secrets == nil ? nil : try requireSealer()
        return try pool.transaction { session in
            // A deposed leader stores no new job (the lease row stays locked until commit).
            try checkFence(session)
            // A request carried out twice makes one job: the first is returned.
            if let origin = job.origin, let existing = try Self.stored(origin: origin, in: session) { return existing }
            func add(_ job: Job) throws -> Job? {
                let origin = job.parentID == nil ? job.origin : nil
                let rows = try session.query(
                    """
                    INSERT INTO jobs (parent_id, command, arguments, requester, channel, selector, agent, status,
                      created_at, attempt, dialog_id, is_broadcast, origin)
                    VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)
                    \(origin == nil ? "" : "ON CONFLICT (origin) WHERE origin IS NOT NULL DO NOTHING")
                    RETURNING id
                    """,
                    [
                        .optional(job.parentID), .text(job.command), .text(try Self.encode(stringMap: job.arguments)),
                        .text(job.requester), .optional(job.channel), .text(job.selector), .optional(job.agent),
                        .text(job.status.rawValue), .double(job.createdAt), .int(Int64(job.attempt)), .optional(job.dialogID),
                        .bool(job.isBroadcast), .optional(origin),
                    ]
                ).rows
                // No row: a job of the same origin was stored meanwhile by another transaction.
                guard let id = try rows.first?.int(0) else { return nil }
                var stored = job
                stored.id = id
                // Each job that runs holds its own sealed copy, bound to its id.
                if let secrets, let sealer, !job.isBroadcast, !secrets.isEmpty {
                    let sealed = try sealer.seal(secrets.encoded, context: "job:\(id)")
                    try session.query("UPDATE jobs SET secrets = $1 WHERE id = $2", [.bytes(sealed), .int(id)])
                }
                return stored
            }
            guard let parent = try add(job) else {
                guard let origin = job.origin, let existing = try Self.stored(origin: origin, in: session) else {
                    throw PostgresStoreError(.unexpectedResult, "a job was neither stored nor found by its origin")
                }
                return existing
            }
            let stored = try children.map { child in
                var child = child
                child.parentID = parent.id
                guard let added = try add(child) else {
                    throw PostgresStoreError(.unexpectedResult, "a broadcast's job was not stored")
                }
                return added
            }
            return (parent, stored)
        }
    }

    /// The job stored for a front-door request, with its children.
    private static func stored(origin: String, in session: PostgresSession) throws -> (Job, [Job])? {
        guard let row = try session.query("SELECT \(jobColumns) FROM jobs WHERE origin = $1", [.text(origin)]).rows.first else {
            return nil
        }
        let existing = try job(from: row)
        let children = try session.query("SELECT \(jobColumns) FROM jobs WHERE parent_id = $1 ORDER BY id", [.int(existing.id)])
            .rows.map(job(from:))
        return (existing, children)
    }

    public func job(_ id: Int64) throws -> Job? {
        try pool.withConnection { session in
            try session.query("SELECT \(Self.jobColumns) FROM jobs WHERE id = $1", [.int(id)]).rows.first.map(Self.job(from:))
        }
    }

    public func jobs(_ query: JobQuery) throws -> [Job] {
        var clauses: [String] = []
        var values: [SQLValue] = []
        if let requester = query.requester { clauses.append("requester = \(values.bind(.text(requester)))") }
        if let statuses = query.statuses {
            let placeholders = statuses.sorted { $0.rawValue < $1.rawValue }.map { values.bind(.text($0.rawValue)) }
            // An empty set matches nothing, as SQLite's `IN ()` does.
            clauses.append(placeholders.isEmpty ? "FALSE" : "status IN (\(placeholders.joined(separator: ",")))")
        }
        if let parent = query.parentID { clauses.append("parent_id = \(values.bind(.int(parent)))") }
        if query.topLevelOnly { clauses.append("parent_id IS NULL") }
        if let after = query.afterID { clauses.append("id > \(values.bind(.int(after)))") }
        let whereClause = clauses.isEmpty ? "" : "WHERE " + clauses.joined(separator: " AND ")
        let limit = Self.limitClause(query.limit, &values)
        return try pool.withConnection { session in
            try session.query(
                "SELECT \(Self.jobColumns) FROM jobs \(whereClause) ORDER BY id \(query.oldestFirst ? "ASC" : "DESC") \(limit)",
                values
            ).rows.map(Self.job(from:))
        }
    }

    public func start(_ id: Int64, agent: String, at time: Double) throws -> Job? {
        var values: [SQLValue] = [.text(agent), .double(time), .int(id)]
        let sql = """
            UPDATE jobs SET status = 'running', agent = $1, started_at = $2, attempt = attempt + 1, confirmed = FALSE
            WHERE id = $3 AND status = 'queued'\(fenceCondition(&values))
            RETURNING \(Self.jobColumns)
            """
        return try pool.withConnection { try $0.query(sql, values).rows.first.map(Self.job(from:)) }
    }

    public func finish(_ id: Int64, attempt: Int?, outcome: JobOutcome, at time: Double) throws -> Job? {
        // The job's secrets go with its end: nothing can dispatch it again.
        var values: [SQLValue] = [
            .text(outcome.status.rawValue), .optional(outcome.exitCode), .optional(outcome.reason), .double(time), .int(id),
        ]
        let attemptCondition = attempt.map { " AND attempt = \(values.bind(.int(Int64($0))))" } ?? ""
        let sql = """
            UPDATE jobs SET status = $1, exit_code = $2, reason = $3, finished_at = $4, secrets = NULL
            WHERE id = $5 AND status IN ('queued','running','awaiting_approval')\(attemptCondition)\(fenceCondition(&values))
            RETURNING \(Self.jobColumns)
            """
        return try pool.withConnection { try $0.query(sql, values).rows.first.map(Self.job(from:)) }
    }

    public func requeue(_ id: Int64, attempt: Int, notBefore: Double) throws -> Bool {
        var values: [SQLValue] = [.double(notBefore), .int(id), .int(Int64(attempt))]
        let sql = """
            UPDATE jobs SET status = 'queued', started_at = NULL, not_before = $1, handbacks = handbacks + 1, confirmed = FALSE,
              agent = CASE WHEN parent_id IS NULL THEN NULL ELSE agent END
            WHERE id = $2 AND status = 'running' AND attempt = $3\(fenceCondition(&values))
            """
        return try pool.withConnection { try $0.query(sql, values).rowsAffected == 1 }
    }

    public func keepSecrets(_ secrets: JobSecrets, of id: Int64) throws -> Bool {
        let sealed = try requireSealer().seal(secrets.encoded, context: "job:\(id)")
        var values: [SQLValue] = [.bytes(sealed), .int(id)]
        let sql = "UPDATE jobs SET secrets = $1 WHERE id = $2 AND status = 'awaiting_approval'\(fenceCondition(&values))"
        return try pool.withConnection { try $0.query(sql, values).rowsAffected } == 1
    }

    public func release(_ id: Int64) throws -> Bool {
        var values: [SQLValue] = [.int(id)]
        // The job itself must still be waiting: sub-jobs of an ended broadcast stay where they are.
        let sql = """
            UPDATE jobs SET status = 'queued' WHERE (id = $1 OR parent_id = $1) AND status = 'awaiting_approval'
              AND EXISTS (SELECT 1 FROM jobs p WHERE p.id = $1 AND p.status = 'awaiting_approval')\(fenceCondition(&values))
            """
        return try pool.withConnection { try $0.query(sql, values).rowsAffected } > 0
    }

    public func handbacks(_ id: Int64) throws -> Int {
        Int(try pool.withConnection { try $0.query("SELECT handbacks FROM jobs WHERE id = $1", [.int(id)]).rows.first?.int(0) } ?? 0)
    }

    public func confirmStarted(_ id: Int64, attempt: Int) throws -> Bool {
        var values: [SQLValue] = [.int(id), .int(Int64(attempt))]
        let sql = """
            UPDATE jobs SET confirmed = TRUE
            WHERE id = $1 AND attempt = $2 AND status = 'running' AND NOT confirmed\(fenceCondition(&values))
            """
        return try pool.withConnection { try $0.query(sql, values).rowsAffected == 1 }
    }

    public func secrets(of id: Int64) throws -> JobSecrets? {
        let sealed = try pool.withConnection { try $0.query("SELECT secrets FROM jobs WHERE id = $1", [.int(id)]).rows.first?.bytes(0) }
        guard let sealed else { return nil }
        let plain = try requireSealer().open(sealed, context: "job:\(id)")
        guard let secrets = JobSecrets(decoding: plain) else { throw SealError.unreadable }
        return secrets
    }

    public func queued(after afterID: Int64, limit: Int) throws -> [Job] {
        try pool.withConnection { session in
            try session.query(
                "SELECT \(Self.jobColumns) FROM jobs WHERE status = 'queued' AND NOT is_broadcast AND id > $1 ORDER BY id LIMIT $2",
                [.int(afterID), .int(Int64(max(0, limit)))]
            ).rows.map(Self.job(from:))
        }
    }

    public func runningJobs() throws -> [Job] {
        try pool.withConnection { session in
            try session.query("SELECT \(Self.jobColumns) FROM jobs WHERE status = 'running' AND NOT is_broadcast ORDER BY id")
                .rows.map(Self.job(from:))
        }
    }

    public func queueStats() throws -> (depth: Int, oldest: Double?) {
        try pool.withConnection { session in
            let row = try session.query("SELECT COUNT(*), MIN(created_at) FROM jobs WHERE status = 'queued' AND NOT is_broadcast").rows
                .first
            return (Int(try row?.int(0) ?? 0), try row?.double(1))
        }
    }
}
