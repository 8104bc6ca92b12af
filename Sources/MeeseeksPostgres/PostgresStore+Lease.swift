public import MeeseeksCore

/// The leader lease and the member list, timed by the database's clock (`clock_timestamp()`), so
/// the boxes' own clocks never decide who leads.
extension PostgresStore {
    /// A lease call that takes longer than a third of the lease has failed: the leader must know
    /// in time to stop before its lease can run out.
    static func leaseDeadline(_ ttl: Double) -> Duration {
        .milliseconds(Int64(max(0.2, min(ttl, 60) / 3) * 1000))
    }

    /// One statement: the row is taken when nobody holds it or its lease expired (a new epoch),
    /// or extended when `member` holds it unexpired (same epoch). Two members racing both update
    /// the one row; the second waits for the first, re-reads the row, and finds it held.
    public func acquireLease(member: String, ttl: Double) throws -> Lease? {
        try pool.withConnection(deadline: Self.leaseDeadline(ttl)) { session in
            let row = try session.query(
                """
                UPDATE leadership SET
                  epoch = CASE WHEN leader = $1 AND expires_at > clock.now THEN epoch ELSE epoch + 1 END,
                  leader = $1,
                  expires_at = clock.now + make_interval(secs => $2),
                  renewed_at = clock.now
                FROM (SELECT clock_timestamp() AS now) AS clock
                WHERE leader IS NULL OR expires_at <= clock.now OR leader = $1
                RETURNING epoch
                """,
                [.text(member), .double(ttl)]
            ).rows.first
            return try row?.int(0).map { Lease(member: member, epoch: $0) }
        }
    }

    public func renewLease(_ lease: Lease, ttl: Double) throws -> Bool {
        try pool.withConnection(deadline: Self.leaseDeadline(ttl)) { session in
            try session.query(
                """
                UPDATE leadership SET expires_at = clock.now + make_interval(secs => $3), renewed_at = clock.now
                FROM (SELECT clock_timestamp() AS now) AS clock
                WHERE leader = $1 AND epoch = $2 AND expires_at > clock.now
                """,
                [.text(lease.member), .int(lease.epoch), .double(ttl)]
            ).rowsAffected == 1
        }
    }

    /// Expires the lease now (the leader's name and epoch stay, for `leaseState`): the next
    /// `acquireLease`, by any member, starts a new epoch.
    public func releaseLease(_ lease: Lease) throws {
        try pool.withConnection(deadline: .seconds(1)) { session in
            try session.query(
                """
                UPDATE leadership SET expires_at = clock.now FROM (SELECT clock_timestamp() AS now) AS clock
                WHERE leader = $1 AND epoch = $2 AND expires_at > clock.now
                """,
                [.text(lease.member), .int(lease.epoch)])
        }
    }

    public func leaseState() throws -> LeaseState {
        try pool.withConnection { session in
            guard
                let row = try session.query(
                    """
                    SELECT leader, epoch, EXTRACT(EPOCH FROM expires_at - clock.now)::float8, EXTRACT(EPOCH FROM clock.now - renewed_at)::float8
                    FROM leadership, (SELECT clock_timestamp() AS now) AS clock
                    """
                ).rows.first
            else { throw PostgresStoreError(.unexpectedResult, "the leadership table has no row") }
            return LeaseState(
                leader: try row.string(0), epoch: try row.int(1) ?? 0, expiresIn: try row.double(2) ?? 0, age: try row.double(3) ?? 0)
        }
    }

    public func announce(_ member: ClusterMember) throws {
        try pool.withConnection(deadline: .seconds(1)) { session in
            try session.query(
                """
                INSERT INTO members (id, grpc_address, http_address, version, seen_at) VALUES ($1, $2, $3, $4, clock_timestamp())
                ON CONFLICT (id) DO UPDATE SET grpc_address = excluded.grpc_address, http_address = excluded.http_address,
                  version = excluded.version, seen_at = excluded.seen_at
                """,
                [.text(member.id), .text(member.grpcAddress), .text(member.httpAddress), .text(member.version)])
        }
    }

    public func members(within: Double) throws -> [ClusterMember] {
        try pool.withConnection { session in
            try session.query(
                """
                SELECT id, grpc_address, http_address, version, EXTRACT(EPOCH FROM clock.now - seen_at)::float8
                FROM members, (SELECT clock_timestamp() AS now) AS clock
                WHERE seen_at > clock.now - make_interval(secs => $1)
                ORDER BY id COLLATE "C"
                """,
                [.double(within)]
            ).rows.map { row in
                ClusterMember(
                    id: try row.string(0) ?? "", grpcAddress: try row.string(1) ?? "", httpAddress: try row.string(2) ?? "",
                    version: try row.string(3) ?? "", age: try row.double(4) ?? 0)
            }
        }
    }
}
