import Foundation
public import MeeseeksCore

/// The chat outbox (its delivery marks fenced when a lease is set), posted messages' references,
/// and the ledger of inbound events.
extension PostgresStore {
    @discardableResult
    public func enqueue(_ message: OutboxMessage) throws -> Int64 {
        try pool.transaction { session in
            // A newer progress makes a pending one pointless (`OutboxMessage.Operation.progress`).
            if message.operation == .progress, let key = message.messageKey {
                try session.query(
                    "DELETE FROM outbox WHERE state = 'pending' AND operation = 'progress' AND message_key = $1", [.text(key)])
            }
            let row = try session.query(
                """
                INSERT INTO outbox (order_key, operation, payload, channel, message_key, attempts, not_before, created_at)
                VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id
                """,
                [
                    .text(message.orderKey), .text(message.operation.rawValue), .bytes(message.payload), .text(message.channel),
                    .optional(message.messageKey), .int(Int64(message.attempts)), .double(message.notBefore),
                    .double(message.createdAt),
                ]
            ).rows.first
            guard let id = try row?.int(0) else { throw PostgresStoreError(.unexpectedResult, "INSERT INTO outbox returned no id") }
            return id
        }
    }

    static let outboxColumns = "id, order_key, operation, payload, channel, message_key, attempts, not_before, created_at"

    public func outboxHeads(limit: Int) throws -> [OutboxMessage] {
        var values: [SQLValue] = []
        let limit = Self.limitClause(limit, &values)
        return try pool.withConnection { session in
            try session.query(
                """
                SELECT \(Self.outboxColumns) FROM outbox
                WHERE id IN (SELECT MIN(id) FROM outbox WHERE state = 'pending' GROUP BY order_key) ORDER BY id \(limit)
                """, values
            ).rows.map(Self.outboxMessage)
        }
    }

    public func nextPending(orderKey: String) throws -> OutboxMessage? {
        try pool.withConnection { session in
            try session.query(
                "SELECT \(Self.outboxColumns) FROM outbox WHERE state = 'pending' AND order_key = $1 ORDER BY id LIMIT 1", [.text(orderKey)]
            ).rows.first.map(Self.outboxMessage)
        }
    }

    static func outboxMessage(_ row: ResultRow) throws -> OutboxMessage {
        OutboxMessage(
            id: try row.int(0) ?? 0, orderKey: try row.string(1) ?? "",
            operation: OutboxMessage.Operation(rawValue: try row.string(2) ?? "") ?? .post, payload: try row.bytes(3) ?? [],
            channel: try row.string(4) ?? "", messageKey: try row.string(5), attempts: Int(try row.int(6) ?? 0),
            notBefore: try row.double(7) ?? 0, createdAt: try row.double(8) ?? 0)
    }

    public func markDelivered(_ id: Int64) throws {
        var values: [SQLValue] = [.int(id)]
        let sql = "UPDATE outbox SET state = 'delivered', last_error = NULL WHERE id = $1\(fenceCondition(&values))"
        try pool.withConnection { try $0.query(sql, values) }
    }

    public func markFailed(_ id: Int64, error: String) throws {
        var values: [SQLValue] = [.text(error), .int(id)]
        let sql = "UPDATE outbox SET state = 'failed', last_error = $1 WHERE id = $2\(fenceCondition(&values))"
        try pool.withConnection { try $0.query(sql, values) }
    }

    public func reschedule(_ id: Int64, notBefore: Double, attempts: Int, error: String) throws {
        var values: [SQLValue] = [.double(notBefore), .int(Int64(attempts)), .text(error), .int(id)]
        let sql = "UPDATE outbox SET not_before = $1, attempts = $2, last_error = $3 WHERE id = $4\(fenceCondition(&values))"
        try pool.withConnection { try $0.query(sql, values) }
    }

    public func outboxDepth() throws -> Int {
        Int(try pool.withConnection { try $0.query("SELECT COUNT(*) FROM outbox WHERE state = 'pending'").rows.first?.int(0) } ?? 0)
    }

    public func messageReference(_ key: String) throws -> (channel: String, ts: String)? {
        try pool.withConnection { session in
            guard let row = try session.query("SELECT channel, ts FROM message_refs WHERE key = $1", [.text(key)]).rows.first,
                let channel = try row.string(0), let ts = try row.string(1)
            else { return nil }
            return (channel, ts)
        }
    }

    public func setMessageReference(_ key: String, channel: String, ts: String) throws {
        try pool.withConnection { session in
            try session.query(
                """
                INSERT INTO message_refs (key, channel, ts, updated_at) VALUES ($1, $2, $3, $4)
                ON CONFLICT (key) DO UPDATE SET channel = excluded.channel, ts = excluded.ts, updated_at = excluded.updated_at
                """,
                [.text(key), .text(channel), .text(ts), .double(Date().timeIntervalSince1970)])
        }
    }

    public func firstSighting(ofEvent id: String, at time: Double, forgetBefore: Double) throws -> Bool {
        try pool.transaction { session in
            try session.query("DELETE FROM chat_events WHERE seen_at < $1", [.double(forgetBefore)])
            return try session.query(
                "INSERT INTO chat_events (id, seen_at) VALUES ($1, $2) ON CONFLICT (id) DO NOTHING", [.text(id), .double(time)]
            ).rowsAffected == 1
        }
    }
}
