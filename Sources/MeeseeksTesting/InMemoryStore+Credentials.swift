public import MeeseeksCore

extension InMemoryStore: AgentCredentialStore {
    public func saveCredential(_ credential: AgentCredential) throws {
        try write { state in
            guard !state.credentials.contains(where: { $0.credential.agentID == credential.agentID && $0.revokedSeq == nil }) else {
                throw InMemoryStoreError("UNIQUE constraint failed: agent '\(credential.agentID)' has a credential")
            }
            var stored = credential
            stored.revoked = false
            state.credentials.append((stored, nil))
        }
    }

    public func credential(agentID: String) throws -> AgentCredential? {
        read { state in state.credentials.first { $0.credential.agentID == agentID && $0.revokedSeq == nil }?.credential }
    }

    public func credentials() throws -> [AgentCredential] {
        read { state in
            state.credentials.map { row in
                var credential = row.credential
                credential.revoked = row.revokedSeq != nil
                return credential
            }
            .sorted { ($0.agentID, $0.createdAt) < ($1.agentID, $1.createdAt) }
        }
    }

    public func revokeCredential(agentID: String) throws -> Bool {
        write { state in
            guard let index = state.credentials.firstIndex(where: { $0.credential.agentID == agentID && $0.revokedSeq == nil }) else {
                return false
            }
            state.lastRevocation += 1
            state.credentials[index].revokedSeq = state.lastRevocation
            return true
        }
    }

    public func revokedCredentials(after: Int64) throws -> (agentIDs: [String], newest: Int64) {
        read { state in
            let revoked = state.credentials.compactMap { row in row.revokedSeq.map { (row.credential.agentID, $0) } }
                .filter { $0.1 > after }.sorted { $0.1 < $1.1 }
            return (revoked.map(\.0), revoked.last?.1 ?? after)
        }
    }
}
