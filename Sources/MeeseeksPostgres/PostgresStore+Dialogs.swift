import Foundation
public import MeeseeksCore

/// Dialogs (sealed) and agents as last seen.
extension PostgresStore {

    public func save(_ dialog: Dialog) throws {
        // Sealed whole: an open dialog holds the answers given so far, secrets among them.
        let state = try requireSealer().seal(Array(try Self.json(dialog).utf8), context: "dialog:\(dialog.id)")
        try pool.withConnection { session in
            try session.query(
                """
                INSERT INTO dialogs (id, "user", state, updated_at, waiting) VALUES ($1, $2, $3, $4, $5)
                ON CONFLICT (id) DO UPDATE SET state = excluded.state, updated_at = excluded.updated_at, waiting = excluded.waiting
                """,
                [.text(dialog.id), .text(dialog.user), .bytes(state), .double(dialog.updatedAt), .bool(dialog.phase.isInteractive)])
        }
    }

    public func idleDialogs(before time: Double, limit: Int) throws -> [String] {
        var values: [SQLValue] = [.double(time)]
        let limit = Self.limitClause(limit, &values)
        return try pool.withConnection { session in
            try session.query("SELECT id FROM dialogs WHERE waiting AND updated_at < $1 ORDER BY updated_at \(limit)", values)
                .rows.compactMap { try $0.string(0) }
        }
    }

    public func dialog(_ id: String) throws -> Dialog? {
        let stored = try pool.withConnection { try $0.query("SELECT state FROM dialogs WHERE id = $1", [.text(id)]).rows.first?.bytes(0) }
        guard let stored else { return nil }
        // Dialogs saved before sealing (copied from an old SQLite store) are plain JSON; they
        // are sealed at their next save.
        let plain = stored.first == UInt8(ascii: "{") ? stored : try requireSealer().open(stored, context: "dialog:\(id)")
        return try JSONDecoder().decode(Dialog.self, from: Data(plain))
    }

    public func save(_ agent: AgentRecord) throws {
        let state = try Self.json(agent)
        try pool.withConnection { session in
            try session.query(
                "INSERT INTO agents (id, state) VALUES ($1, $2) ON CONFLICT (id) DO UPDATE SET state = excluded.state",
                [.text(agent.id), .text(state)])
        }
    }

    public func agents() throws -> [AgentRecord] {
        let states = try pool.withConnection { session in
            try session.query("SELECT state FROM agents ORDER BY id COLLATE \"C\"").rows.map { try $0.string(0) ?? "" }
        }
        // An agent's record is written whole by `save`; one that does not read back (a field
        // this version does not know) is skipped: the fleet view shows agents, it keeps no state.
        return states.compactMap { try? JSONDecoder().decode(AgentRecord.self, from: Data($0.utf8)) }
    }
}
