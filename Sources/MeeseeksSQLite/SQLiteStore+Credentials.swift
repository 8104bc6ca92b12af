public import MeeseeksCore
import MeeseeksLabels

/// Per-agent credentials (`meeseeks agent enroll`): hashes only.
extension SQLiteStore {
    static let credentialColumns = "agent_id, labels, commands, hash, created_at, revoked_seq"

    public func saveCredential(_ credential: AgentCredential) throws {
        try database.query(
            "INSERT INTO agent_credentials (agent_id, labels, commands, hash, created_at) VALUES (?, ?, ?, ?, ?)",
            [
                .text(credential.agentID), .text(credential.labels.description),
                .optional(credential.commands?.joined(separator: ",")), .text(credential.hash), .real(credential.createdAt),
            ])
    }

    public func credential(agentID: String) throws -> AgentCredential? {
        try database.query(
            "SELECT \(Self.credentialColumns) FROM agent_credentials WHERE agent_id = ? AND revoked_seq IS NULL", [.text(agentID)]
        ).first.map(Self.credential)
    }

    public func credentials() throws -> [AgentCredential] {
        try database.query("SELECT \(Self.credentialColumns) FROM agent_credentials ORDER BY agent_id, created_at").map(Self.credential)
    }

    public func revokeCredential(agentID: String) throws -> Bool {
        try database.transaction { db in
            try db.query(
                """
                UPDATE agent_credentials SET revoked_seq = (SELECT COALESCE(MAX(revoked_seq), 0) + 1 FROM agent_credentials)
                WHERE agent_id = ? AND revoked_seq IS NULL
                """, [.text(agentID)])
            return db.changes == 1
        }
    }

    public func revokedCredentials(after: Int64) throws -> (agentIDs: [String], newest: Int64) {
        let rows = try database.query(
            "SELECT agent_id, revoked_seq FROM agent_credentials WHERE revoked_seq > ? ORDER BY revoked_seq", [.integer(after)])
        return (rows.map { $0.string(0) ?? "" }, rows.last?.int(1) ?? after)
    }

    static func credential(_ row: Row) -> AgentCredential {
        AgentCredential(
            agentID: row.string(0) ?? "", labels: AgentCredential.storedLabels(row.string(1) ?? ""),
            commands: row.string(2).map { $0.split(separator: ",").map(String.init) },
            hash: row.string(3) ?? "", createdAt: row.double(4) ?? 0, revoked: row.int(5) != nil)
    }
}
