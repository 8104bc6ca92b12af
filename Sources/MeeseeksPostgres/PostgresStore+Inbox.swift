public import MeeseeksCore

/// The front doors' requests. A front door posts and is woken by `meeseeks_reply`; the leader is
/// woken by `meeseeks_inbox`, claims (fenced by its lease) and answers (fenced too).
extension PostgresStore {
    /// The channel `post` notifies, with the request's id: the leader listens on it.
    public static let inboxChannel = "meeseeks_inbox"
    /// The channel `answer` notifies, with the request's id: waiting front doors listen on it.
    public static let replyChannel = "meeseeks_reply"

    /// Stores the request and notifies in one transaction: the notification is sent when (and
    /// only if) the request is committed, so the leader never looks for a row it cannot see.
    /// Payloads and answers carry what users typed (secret answers, 2FA codes): sealed at rest.
    static let payloadContext = "inbox"
    static let responseContext = "inbox-response"

    public func post(_ request: InboxRequest) throws -> Int64? {
        let payload = try requireSealer().seal(request.payload, context: Self.payloadContext)
        return try pool.transaction { session in
            guard
                let id = try session.query(
                    """
                    INSERT INTO inbox (kind, payload, created_at, event_id) VALUES ($1, $2, $3, $4)
                    ON CONFLICT (event_id) WHERE event_id IS NOT NULL DO NOTHING RETURNING id
                    """,
                    [.text(request.kind), .bytes(payload), .double(request.createdAt), .optional(request.eventID)]
                ).rows.first?.int(0)
            else { return nil }  // a retried event, stored already
            try session.query("SELECT pg_notify($1, $2)", [.text(Self.inboxChannel), .text(String(id))])
            return id
        }
    }

    /// Claims unanswered requests no one of this epoch or a later one claimed yet; rows another
    /// claim holds at this moment are skipped, not waited for. Nothing when `lease` is not
    /// current.
    public func claim(for lease: Lease, limit: Int) throws -> [InboxRequest] {
        var values: [SQLValue] = [.int(lease.epoch), .int(Int64(max(0, limit)))]
        let sql = """
            UPDATE inbox SET claimed_epoch = $1
            WHERE id IN (
                SELECT id FROM inbox WHERE NOT answered AND (claimed_epoch IS NULL OR claimed_epoch < $1)
                ORDER BY id LIMIT $2 FOR UPDATE SKIP LOCKED
            )\(Self.fenceCondition(lease, &values))
            RETURNING id, kind, payload, created_at
            """
        let sealer = try requireSealer()
        let claimed = try pool.withConnection { session in
            try session.query(sql, values).rows.map { row in
                InboxRequest(
                    id: try row.int(0) ?? 0, kind: try row.string(1) ?? "",
                    payload: try sealer.open(try row.bytes(2) ?? [], context: Self.payloadContext), createdAt: try row.double(3) ?? 0)
            }
        }
        return claimed.sorted { $0.id < $1.id }
    }

    /// Records the answer once and notifies, in one transaction; does nothing when `lease` is not
    /// current or the request was answered already.
    public func answer(_ id: Int64, response: [UInt8], lease: Lease) throws {
        // The request's payload is not needed once answered: it goes (its row stays, for the
        // event id and the answer, until `purgeAnswered`).
        var values: [SQLValue] = [.int(id), .bytes(try requireSealer().seal(response, context: Self.responseContext))]
        let sql = """
            UPDATE inbox SET answered = TRUE, response = $2, payload = ''::bytea
            WHERE id = $1 AND NOT answered\(Self.fenceCondition(lease, &values))
            """
        try pool.transaction { session in
            guard try session.query(sql, values).rowsAffected == 1 else { return }
            try session.query("SELECT pg_notify($1, $2)", [.text(Self.replyChannel), .text(String(id))])
        }
    }

    public func response(of id: Int64) throws -> [UInt8]? {
        try pool.withConnection { session in
            guard let row = try session.query("SELECT answered, response FROM inbox WHERE id = $1", [.int(id)]).rows.first,
                try row.bool(0) == true
            else { return nil }
            return try requireSealer().open(try row.bytes(1) ?? [], context: Self.responseContext)
        }
    }

    public func purgeAnswered(before time: Double) throws -> Int {
        try pool.withConnection { session in
            try session.query("DELETE FROM inbox WHERE answered AND created_at < $1", [.double(time)]).rowsAffected
        }
    }
}
