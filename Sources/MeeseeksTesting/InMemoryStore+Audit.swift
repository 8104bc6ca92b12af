public import MeeseeksCore

/// The audit trail: appended to, never changed.
extension InMemoryStore: AuditStore {

    public func append(_ record: AuditRecord, at time: Double) throws {
        write { state in
            state.lastAuditID += 1
            state.audit.append(AuditEntry(id: state.lastAuditID, time: time, record: record))
        }
    }

    /// The newest `limit` matching entries, oldest first.
    public func audit(_ query: AuditQuery) throws -> [AuditEntry] {
        read { state in
            let matching = state.audit.reversed().lazy.filter { entry in
                (query.user.map { entry.record.user == $0 } ?? true)
                    && (query.command.map { entry.record.command == $0 } ?? true)
                    && (query.outcome.map { entry.record.outcome == $0 } ?? true)
                    && (query.since.map { entry.time >= $0 } ?? true)
                    && (query.until.map { entry.time <= $0 } ?? true)
            }
            return Array(Array(matching.prefix(query.limit.sqliteLimit)).reversed())
        }
    }
}

/// API tokens: names and hashes are unique.
extension InMemoryStore: TokenStore {

    public func saveToken(_ token: APIToken) throws {
        try write { state in
            guard state.tokens[token.name] == nil else {
                throw InMemoryStoreError("UNIQUE constraint failed: a token named '\(token.name)' exists")
            }
            guard !state.tokens.values.contains(where: { $0.hash == token.hash }) else {
                throw InMemoryStoreError("UNIQUE constraint failed: a token with this hash exists")
            }
            state.tokens[token.name] = token
        }
    }

    public func token(hash: String) throws -> APIToken? {
        read { state in state.tokens.values.first { $0.hash == hash } }
    }

    public func tokens() throws -> [APIToken] {
        read { state in state.tokens.values.sorted { $0.name.precedesInBinaryCollation($1.name) } }
    }

    public func revokeToken(name: String) throws -> Bool {
        write { state in
            guard state.tokens[name]?.revoked == false else { return false }
            state.tokens[name]?.revoked = true
            return true
        }
    }
}
