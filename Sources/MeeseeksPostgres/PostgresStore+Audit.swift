public import MeeseeksCore

/// The audit trail, API tokens (hashes only) and purging.
extension PostgresStore {

    public func append(_ record: AuditRecord, at time: Double) throws {
        try pool.withConnection { session in
            try session.query(
                """
                INSERT INTO audit (time, action, "user", command, outcome, reason, job_id, detail)
                VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
                """,
                [
                    .double(time), .text(record.action.rawValue), .text(record.user), .optional(record.command),
                    .text(record.outcome), .optional(record.reason), .optional(record.jobID), .optional(record.detail),
                ])
        }
    }

    public func audit(_ query: AuditQuery) throws -> [AuditEntry] {
        var clauses: [String] = []
        var values: [SQLValue] = []
        for (column, value) in [("\"user\"", query.user), ("command", query.command), ("outcome", query.outcome)] {
            if let value { clauses.append("\(column) = \(values.bind(.text(value)))") }
        }
        if let since = query.since { clauses.append("time >= \(values.bind(.double(since)))") }
        if let until = query.until { clauses.append("time <= \(values.bind(.double(until)))") }
        let whereClause = clauses.isEmpty ? "" : "WHERE " + clauses.joined(separator: " AND ")
        let limit = Self.limitClause(query.limit, &values)
        let rows = try pool.withConnection { session in
            try session.query(
                """
                SELECT id, time, action, "user", command, outcome, reason, job_id, detail FROM audit \(whereClause)
                ORDER BY id DESC \(limit)
                """,
                values
            ).rows
        }
        return try rows.map { row in
            AuditEntry(
                id: try row.int(0) ?? 0, time: try row.double(1) ?? 0,
                record: AuditRecord(
                    action: AuditAction(rawValue: try row.string(2) ?? "") ?? .unknown, user: try row.string(3) ?? "",
                    command: try row.string(4), outcome: try row.string(5) ?? "", reason: try row.string(6), jobID: try row.int(7),
                    detail: try row.string(8)))
        }.reversed()
    }

    public func saveToken(_ token: APIToken) throws {
        try pool.withConnection { session in
            try session.query(
                "INSERT INTO api_tokens (name, \"user\", hash, created_at, revoked) VALUES ($1, $2, $3, $4, $5)",
                [.text(token.name), .text(token.user), .text(token.hash), .double(token.createdAt), .bool(token.revoked)])
        }
    }

    public func token(hash: String) throws -> APIToken? {
        try pool.withConnection { session in
            try session.query("SELECT name, \"user\", hash, created_at, revoked FROM api_tokens WHERE hash = $1", [.text(hash)])
                .rows.first.map(Self.token)
        }
    }

    public func tokens() throws -> [APIToken] {
        try pool.withConnection { session in
            // Byte order, as SQLite sorts text.
            try session.query("SELECT name, \"user\", hash, created_at, revoked FROM api_tokens ORDER BY name COLLATE \"C\"")
                .rows.map(Self.token)
        }
    }

    static func token(_ row: ResultRow) throws -> APIToken {
        APIToken(
            name: try row.string(0) ?? "", user: try row.string(1) ?? "", hash: try row.string(2) ?? "",
            createdAt: try row.double(3) ?? 0, revoked: try row.bool(4) ?? false)
    }

    public func revokeToken(name: String) throws -> Bool {
        try pool.withConnection { session in
            try session.query("UPDATE api_tokens SET revoked = TRUE WHERE name = $1 AND NOT revoked", [.text(name)]).rowsAffected == 1
        }
    }

    public func purge(before time: Double) throws -> Int {
        try pool.transaction { session in
            let jobs = try session.query(
                "DELETE FROM jobs WHERE finished_at < $1 AND parent_id IS NULL AND status NOT IN ('queued','running')", [.double(time)]
            ).rowsAffected
            try session.query("DELETE FROM dialogs WHERE updated_at < $1", [.double(time)])
            try session.query("DELETE FROM audit WHERE time < $1", [.double(time)])
            try session.query("DELETE FROM outbox WHERE state != 'pending' AND created_at < $1", [.double(time)])
            try session.query("DELETE FROM message_refs WHERE updated_at < $1", [.double(time)])
            return jobs
        }
    }
}
