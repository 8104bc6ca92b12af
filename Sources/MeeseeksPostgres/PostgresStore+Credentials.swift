public import MeeseeksCore
import MeeseeksLabels

/// Per-agent credentials (`meeseeks agent enroll`): hashes only.
extension PostgresStore {
    static let credentialColumns = "agent_id, labels, commands, hash, created_at, revoked_seq"

    public func saveCredential(_ credential: AgentCredential) throws {
        try pool.withConnection { session in
            try session.query(
                "INSERT INTO agent_credentials (agent_id, labels, commands, hash, created_at) VALUES ($1, $2, $3, $4, $5)",
                [
                    .text(credential.agentID), .text(credential.labels.description),
                    .optional(credential.commands?.joined(separator: ",")), .text(credential.hash), .double(credential.createdAt),
                ])
        }
    }

    public func credential(agentID: String) throws -> AgentCredential? {
        try pool.withConnection { session in
            try session.query(
                "SELECT \(Self.credentialColumns) FROM agent_credentials WHERE agent_id = $1 AND revoked_seq IS NULL", [.text(agentID)]
            ).rows.first.map(Self.credential)
        }
    }

    public func credentials() throws -> [AgentCredential] {
        try pool.withConnection { session in
            try session.query("SELECT \(Self.credentialColumns) FROM agent_credentials ORDER BY agent_id, created_at").rows.map(
                Self.credential)
        }
    }

    public func revokeCredential(agentID: String) throws -> Bool {
        try pool.withConnection { session in
            try session.query(
                "UPDATE agent_credentials SET revoked_seq = nextval('agent_credential_revocations') WHERE agent_id = $1 AND revoked_seq IS NULL",
                [.text(agentID)]
            ).rowsAffected == 1
        }
    }

    public func revokedCredentials(after: Int64) throws -> (agentIDs: [String], newest: Int64) {
        try pool.withConnection { session in
            let rows = try session.query(
                "SELECT agent_id, revoked_seq FROM agent_credentials WHERE revoked_seq > $1 ORDER BY revoked_seq", [.int(after)]
            ).rows
            return (try rows.map { try $0.string(0) ?? "" }, try rows.last?.int(1) ?? after)
        }
    }

    static func credential(_ row: ResultRow) throws -> AgentCredential {
        AgentCredential(
            agentID: try row.string(0) ?? "", labels: AgentCredential.storedLabels(try row.string(1) ?? ""),
            commands: try row.string(2).map { $0.split(separator: ",").map(String.init) }, hash: try row.string(3) ?? "",
            createdAt: try row.double(4) ?? 0, revoked: try row.int(5) != nil)
    }
}
