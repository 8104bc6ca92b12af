import Foundation
public import MeeseeksCore

extension SQLiteStore {
    public func enqueue(_ message: OutboxMessage) throws -> Int64 {
        try database.transaction { db in
            if message.operation == .progress, let key = message.messageKey {
                try db.query(
                    "DELETE FROM outbox WHERE state = 'pending' AND operation = 'progress' AND message_key = ?", [.text(key)])
            }
            try db.query(
                "INSERT INTO outbox (order_key, operation, payload, channel, message_key, attempts, not_before, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    .text(message.orderKey), .text(message.operation.rawValue), .blob(message.payload), .text(message.channel),
                    .optional(message.messageKey), .integer(Int64(message.attempts)), .real(message.notBefore),
                    .real(message.createdAt),
                ])
            return db.lastInsertID
        }
    }

    static let outboxColumns = "id, order_key, operation, payload, channel, message_key, attempts, not_before, created_at"

    public func outboxHeads(limit: Int) throws -> [OutboxMessage] {
        try database.query(
            """
            SELECT \(Self.outboxColumns) FROM outbox
            WHERE id IN (SELECT MIN(id) FROM outbox WHERE state = 'pending' GROUP BY order_key) ORDER BY id LIMIT ?
            """, [.integer(Int64(limit))]
        ).map(Self.outboxMessage)
    }

    public func nextPending(orderKey: String) throws -> OutboxMessage? {
        try database.query(
            "SELECT \(Self.outboxColumns) FROM outbox WHERE state = 'pending' AND order_key = ? ORDER BY id LIMIT 1", [.text(orderKey)]
        ).first.map(Self.outboxMessage)
    }

    static func outboxMessage(_ row: Row) -> OutboxMessage {
        OutboxMessage(
            id: row.int(0) ?? 0, orderKey: row.string(1) ?? "", operation: OutboxMessage.Operation(rawValue: row.string(2) ?? "") ?? .post,
            payload: row.blob(3), channel: row.string(4) ?? "", messageKey: row.string(5), attempts: Int(row.int(6) ?? 0),
            notBefore: row.double(7) ?? 0, createdAt: row.double(8) ?? 0)
    }

    public func markDelivered(_ id: Int64) throws {
        try database.query("UPDATE outbox SET state = 'delivered', last_error = NULL WHERE id = ?", [.integer(id)])
    }

    public func markFailed(_ id: Int64, error: String) throws {
        try database.query("UPDATE outbox SET state = 'failed', last_error = ? WHERE id = ?", [.text(error), .integer(id)])
    }

    public func reschedule(_ id: Int64, notBefore: Double, attempts: Int, error: String) throws {
        try database.query(
            "UPDATE outbox SET not_before = ?, attempts = ?, last_error = ? WHERE id = ?",
            [.real(notBefore), .integer(Int64(attempts)), .text(error), .integer(id)])
    }

    public func outboxDepth() throws -> Int {
        Int(try database.query("SELECT COUNT(*) FROM outbox WHERE state = 'pending'").first?.int(0) ?? 0)
    }

    public func messageReference(_ key: String) throws -> (channel: String, ts: String)? {
        guard let row = try database.query("SELECT channel, ts FROM message_refs WHERE key = ?", [.text(key)]).first,
            let channel = row.string(0), let ts = row.string(1)
        else { return nil }
        return (channel, ts)
    }

    public func firstSighting(ofEvent id: String, at time: Double, forgetBefore: Double) throws -> Bool {
        try database.transaction { db in
            try db.query("DELETE FROM chat_events WHERE seen_at < ?", [.real(forgetBefore)])
            try db.query("INSERT OR IGNORE INTO chat_events (id, seen_at) VALUES (?, ?)", [.text(id), .real(time)])
            return db.changes == 1
        }
    }

    public func setMessageReference(_ key: String, channel: String, ts: String) throws {
        try database.query(
            """
            INSERT INTO message_refs (key, channel, ts, updated_at) VALUES (?, ?, ?, ?)
            ON CONFLICT(key) DO UPDATE SET channel = excluded.channel, ts = excluded.ts, updated_at = excluded.updated_at
            """,
            [.text(key), .text(channel), .text(ts), .real(Date().timeIntervalSince1970)])
    }
}
