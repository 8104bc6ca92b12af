import Foundation
public import MeeseeksCore

/// Dialogs (sealed) and agents as last seen.
extension SQLiteStore {

    public func save(_ dialog: Dialog) throws {
        // Sealed whole: an open dialog holds the answers given so far, secrets among them.
        let state = try requireSealer().seal(Array(try Self.json(dialog).utf8), context: "dialog:\(dialog.id)")
        try database.query(
            """
            INSERT INTO dialogs (id, user, state, updated_at, waiting) VALUES (?, ?, ?, ?, ?)
            ON CONFLICT(id) DO UPDATE SET state = excluded.state, updated_at = excluded.updated_at, waiting = excluded.waiting
            """,
            [.text(dialog.id), .text(dialog.user), .blob(state), .real(dialog.updatedAt), .integer(dialog.phase.isInteractive ? 1 : 0)])
    }

    public func idleDialogs(before time: Double, limit: Int) throws -> [String] {
        try database.query(
            "SELECT id FROM dialogs WHERE waiting = 1 AND updated_at < ? ORDER BY updated_at LIMIT ?",
            [.real(time), .integer(Int64(limit))]
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
            [.text(agent.id), .text(try Self.json(agent))])
    }

    public func agents() throws -> [AgentRecord] {
        // An agent's record is written whole by `save`; one that does not read back (a field
        // this version does not know) is skipped: the fleet view shows agents, it keeps no state.
        try database.query("SELECT state FROM agents ORDER BY id").compactMap {
            try? JSONDecoder().decode(AgentRecord.self, from: Data($0.blob(0)))
        }
    }
}
