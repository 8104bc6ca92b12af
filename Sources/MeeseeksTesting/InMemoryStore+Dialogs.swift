import Foundation
public import MeeseeksCore

/// Dialogs in flight, sealed as SQLite seals them.
extension InMemoryStore: DialogStore {

    public func save(_ dialog: Dialog) throws {
        // Sealed whole: an open dialog holds the answers given so far, secrets among them.
        let sealed = try requireSealer().seal(Array(try Self.encoder.encode(dialog)), context: "dialog:\(dialog.id)")
        write { state in
            let sequence: Int64
            if let existing = state.dialogs[dialog.id] {
                sequence = existing.sequence
            } else {
                state.dialogSequence += 1
                sequence = state.dialogSequence
            }
            state.dialogs[dialog.id] = DialogRow(
                sealed: sealed, updatedAt: dialog.updatedAt, waiting: dialog.phase.isInteractive, sequence: sequence)
        }
    }

    public func dialog(_ id: String) throws -> Dialog? {
        guard let sealed = read({ $0.dialogs[id]?.sealed }) else { return nil }
        let plain = try requireSealer().open(sealed, context: "dialog:\(id)")
        return try JSONDecoder().decode(Dialog.self, from: Data(plain))
    }

    public func idleDialogs(before time: Double, limit: Int) throws -> [String] {
        read { state in
            state.dialogs.filter { $0.value.waiting && $0.value.updatedAt < time }
                .sorted { ($0.value.updatedAt, $0.value.sequence) < ($1.value.updatedAt, $1.value.sequence) }
                .prefix(limit.sqliteLimit).map(\.key)
        }
    }

    static var encoder: JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return encoder
    }
}

/// Agents as last seen.
extension InMemoryStore: AgentStore {

    public func save(_ agent: AgentRecord) throws {
        write { $0.agents[agent.id] = agent }
    }

    public func agents() throws -> [AgentRecord] {
        read { state in state.agents.values.sorted { $0.id.precedesInBinaryCollation($1.id) } }
    }
}
