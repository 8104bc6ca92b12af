public import MeeseeksCore

/// Requests written before they are acknowledged, then carried out by this box (it alone uses
/// the file). A claim names the run that made it (the lease's epoch): what an earlier run claimed
/// and never answered is claimed again after a restart. Payloads and answers carry what users
/// typed: sealed at rest.
extension SQLiteStore: InboxStore {
    static let payloadContext = "inbox"
    static let responseContext = "inbox-response"

    public func post(_ request: InboxRequest) throws -> Int64? {
        let payload = try requireSealer().seal(request.payload, context: Self.payloadContext)
        return try database.transaction { db in
            try db.query(
                "INSERT OR IGNORE INTO inbox (kind, payload, created_at, event_id) VALUES (?, ?, ?, ?)",
                [.text(request.kind), .blob(payload), .real(request.createdAt), .optional(request.eventID)])
            // Nothing inserted: a retried event, stored already.
            guard db.changes == 1 else { return nil }
            return try db.query("SELECT last_insert_rowid()").first?.int(0)
        }
    }

    public func claim(for lease: Lease, limit: Int) throws -> [InboxRequest] {
        let sealer = try requireSealer()
        let rows = try database.transaction { db in
            let rows = try db.query(
                """
                SELECT id, kind, payload, created_at FROM inbox
                WHERE answered = 0 AND (claimed_epoch IS NULL OR claimed_epoch < ?) ORDER BY id LIMIT ?
                """, [.integer(lease.epoch), .integer(Int64(max(0, limit)))])
            for row in rows {
                try db.query("UPDATE inbox SET claimed_epoch = ? WHERE id = ?", [.integer(lease.epoch), .integer(row.int(0) ?? 0)])
            }
            return rows
        }
        return try rows.map { row in
            InboxRequest(
                id: row.int(0) ?? 0, kind: row.string(1) ?? "", payload: try sealer.open(row.blob(2), context: Self.payloadContext),
                createdAt: row.double(3) ?? 0)
        }
    }

    public func answer(_ id: Int64, response: [UInt8], lease: Lease) throws {
        // The payload is not needed once answered; the row stays for its event id until purged.
        let sealed = try requireSealer().seal(response, context: Self.responseContext)
        try database.query(
            "UPDATE inbox SET answered = 1, response = ?, payload = X'' WHERE id = ? AND answered = 0", [.blob(sealed), .integer(id)])
    }

    public func response(of id: Int64) throws -> [UInt8]? {
        guard let row = try database.query("SELECT answered, response FROM inbox WHERE id = ?", [.integer(id)]).first, row.int(0) == 1
        else { return nil }
        return try requireSealer().open(row.blob(1), context: Self.responseContext)
    }

    public func purgeAnswered(before time: Double) throws -> Int {
        try database.transaction { db in
            try db.query("DELETE FROM inbox WHERE answered = 1 AND created_at < ?", [.real(time)])
            return db.changes
        }
    }
}
