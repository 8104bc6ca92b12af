public import MeeseeksCore

/// The audit trail, API tokens (hashes only) and purging.
extension SQLiteStore {

    public func append(_ record: AuditRecord, at time: Double) throws {
        try database.query(
            "INSERT INTO audit (time, action, user, command, outcome, reason, job_id, detail) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            [
                .real(time), .text(record.action.rawValue), .text(record.user), .optional(record.command), .text(record.outcome),
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
                    action: AuditAction(rawValue: row.string(2) ?? "") ?? .unknown, user: row.string(3) ?? "", command: row.string(4),
                    outcome: row.string(5) ?? "", reason: row.string(6), jobID: row.int(7), detail: row.string(8)))
        }.reversed()
    }

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
            try db.query("DELETE FROM message_refs WHERE updated_at < ?", [.real(time)])
            return jobs
        }
    }
}
