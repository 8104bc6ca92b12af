/// Several boxes on one database: one leads (orchestrates) under a lease; the others are front
/// doors that pass requests on through the database. SQLite has one box and needs none of this.

/// A lease held by a member, with the epoch that fences its writes: every change of leader
/// gives a larger epoch.
public struct Lease: Hashable, Sendable, Codable {
    public var member: String
    public var epoch: Int64

    public init(member: String, epoch: Int64) {
        self.member = member
        self.epoch = epoch
    }
}

/// Who leads now, as the database sees it (its own clock, so boxes' clocks do not matter).
public struct LeaseState: Hashable, Sendable, Codable {
    public var leader: String?
    public var epoch: Int64
    /// Seconds until the lease expires (negative once it has).
    public var expiresIn: Double
    /// Seconds since the leader last renewed it.
    public var age: Double

    public init(leader: String?, epoch: Int64, expiresIn: Double, age: Double) {
        self.leader = leader
        self.epoch = epoch
        self.expiresIn = expiresIn
        self.age = age
    }
}

/// One box of a cluster, as it announces itself.
public struct ClusterMember: Hashable, Sendable, Codable {
    public var id: String
    /// Where agents reach its gRPC listener (`HOST:PORT`), and clients its HTTP one.
    public var grpcAddress: String
    public var httpAddress: String
    public var version: String
    /// Seconds since it last announced itself (by the database's clock).
    public var age: Double

    public init(id: String, grpcAddress: String, httpAddress: String, version: String, age: Double = 0) {
        self.id = id
        self.grpcAddress = grpcAddress
        self.httpAddress = httpAddress
        self.version = version
        self.age = age
    }
}

/// The leader lease and the member list.
public protocol LeaseStore: Sendable {
    /// Takes the lease when nobody holds a live one (a new, larger epoch), or renews it when
    /// `member` holds it (same epoch). Nil when another member holds a live lease.
    func acquireLease(member: String, ttl: Double) throws -> Lease?
    /// Extends `lease` by `ttl` seconds; false when it is no longer held (expired and taken, or
    /// released): its holder must stop orchestrating at once.
    func renewLease(_ lease: Lease, ttl: Double) throws -> Bool
    /// Gives the lease up (at shutdown), so a standby takes over without waiting for expiry.
    func releaseLease(_ lease: Lease) throws
    func leaseState() throws -> LeaseState
    /// Records that `member` is alive, and where it listens.
    func announce(_ member: ClusterMember) throws
    /// Members seen in the last `within` seconds.
    func members(within: Double) throws -> [ClusterMember]
}

/// Orchestration writes (dispatch, hand-back, ends, outbox claims) conditioned on the writer's
/// lease being current: a partitioned leader whose lease expired changes nothing, even if its
/// session to the database outlives the lease.
public protocol FencedStore: Sendable {
    /// The lease the writes of this store are fenced by; nil for none (one box alone).
    func fence(with lease: Lease?)
}

/// A request taken by a front door (a box that does not lead) for the leader to carry out: a
/// Slack payload, or an API call whose answer the front door waits for.
public struct InboxRequest: Hashable, Sendable {
    public var id: Int64
    /// `slack` (fire and forget) or `api` (answered through `response`).
    public var kind: String
    public var payload: [UInt8]
    public var createdAt: Double
    /// Slack's event id: a retried event is stored once, in the same write as the request (an id
    /// recorded apart from it would turn a retry after a failed write into a lost request).
    public var eventID: String?

    public init(id: Int64 = 0, kind: String, payload: [UInt8], createdAt: Double, eventID: String? = nil) {
        self.id = id
        self.kind = kind
        self.payload = payload
        self.createdAt = createdAt
        self.eventID = eventID
    }
}

/// The front doors' requests, in order; the leader claims them (fenced), answers, and the
/// front door that waits is woken.
public protocol InboxStore: Sendable {
    /// Stores a request and wakes the leader; returns its id, or nil when a request with the
    /// same `eventID` is stored already (a retry: nothing is stored).
    func post(_ request: InboxRequest) throws -> Int64?
    /// Requests not yet answered, oldest first, claimed for `lease` (a request claimed by an
    /// older epoch is claimed again: its leader died before answering).
    func claim(for lease: Lease, limit: Int) throws -> [InboxRequest]
    /// Records the answer (fenced) and wakes the front door waiting for it.
    func answer(_ id: Int64, response: [UInt8], lease: Lease) throws
    /// The answer, once there is one.
    func response(of id: Int64) throws -> [UInt8]?
    /// Deletes answered requests posted before `time` (their event ids with them); returns how many.
    func purgeAnswered(before time: Double) throws -> Int
}

/// Notifications between boxes through the database (PostgreSQL's LISTEN/NOTIFY): how a front
/// door wakes the leader, and the leader a waiting front door, without polling.
public protocol ClusterSignals: Sendable {
    /// Calls `wake` for every notification on `channel` until the task is cancelled.
    func listen(_ channel: String, wake: @escaping @Sendable (String) -> Void) async throws
    func notify(_ channel: String, payload: String) throws
}
