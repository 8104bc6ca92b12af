public import MeeseeksLabels

/// Everything the box keeps: jobs and their output, dialogs, agents, audit, API tokens and the
/// Slack outbox. SQLite implements it today; the protocol leaves room for PostgreSQL.
///
/// Calls are synchronous and short; implementations serialise access themselves.
public protocol JobStore: Sendable {
    // Jobs
    /// Stores new jobs (a single job, or a broadcast parent followed by its children) atomically and
    /// returns them with their ids. Children get `parentID` set to the parent's new id.
    /// `secrets` (secret argument values and the 2FA code) are kept sealed with every job that
    /// runs, until it ends.
    func insert(_ job: Job, children: [Job], secrets: JobSecrets?) throws -> (Job, [Job])
    func job(_ id: Int64) throws -> Job?
    func jobs(_ query: JobQuery) throws -> [Job]
    /// Marks a queued job running on `agent` with a new attempt number; nil if it was not queued.
    func start(_ id: Int64, agent: String, at time: Double) throws -> Job?
    /// Ends a job once: a result for a final job, or for another attempt, changes nothing and
    /// returns nil.
    func finish(_ id: Int64, attempt: Int?, outcome: JobOutcome, at time: Double) throws -> Job?
    /// Puts a running job back in the queue (its agent handed it back before starting it, or never
    /// got it), not to be dispatched before `notBefore`.
    func requeue(_ id: Int64, attempt: Int, notBefore: Double) throws -> Bool
    /// How often a job was handed back: its next backoff.
    func handbacks(_ id: Int64) throws -> Int
    /// Records that the agent started this attempt; false when it is not the running attempt.
    func confirmStarted(_ id: Int64, attempt: Int) throws -> Bool
    /// The job's secrets, opened; nil when it has none (or has ended). Throws `SealError` when
    /// they cannot be opened: the job must then fail, never run with masked values.
    func secrets(of id: Int64) throws -> JobSecrets?
    /// Appends output, keeping at most `limit` bytes per job and a marker after them.
    func appendOutput(_ id: Int64, _ bytes: [UInt8], limit: Int) throws
    /// Output from byte `offset`, at most `limit` bytes.
    func output(_ id: Int64, from offset: Int, limit: Int) throws -> [UInt8]
    func outputSize(_ id: Int64) throws -> Int
    /// Jobs waiting to start (broadcast parents aside), and when the oldest was queued.
    func queueStats() throws -> (depth: Int, oldest: Double?)

    // Dialogs
    func save(_ dialog: Dialog) throws
    func dialog(_ id: String) throws -> Dialog?
    /// Dialogs waiting for their user since before `time` (oldest first).
    func idleDialogs(before time: Double, limit: Int) throws -> [String]

    // Agents
    func save(_ agent: AgentRecord) throws
    func agents() throws -> [AgentRecord]

    // Audit
    func append(_ record: AuditRecord, at time: Double) throws
    func audit(_ query: AuditQuery) throws -> [AuditEntry]

    // API tokens: only hashes are stored.
    func saveToken(_ token: APIToken) throws
    func token(hash: String) throws -> APIToken?
    func tokens() throws -> [APIToken]
    func revokeToken(name: String) throws -> Bool

    /// Deletes finished jobs, their output, dialogs and audit entries older than `time`.
    func purge(before time: Double) throws -> Int
}

/// Which jobs to list.
public struct JobQuery: Hashable, Sendable {
    public var requester: String?
    public var statuses: Set<JobStatus>?
    public var parentID: Int64?
    /// Only top-level jobs (no broadcast children).
    public var topLevelOnly: Bool
    public var limit: Int
    /// Only jobs with a larger id (oldest-first paging that survives rows changing status).
    public var afterID: Int64?
    /// Oldest first (the queue) instead of newest first (history).
    public var oldestFirst: Bool

    public init(
        requester: String? = nil, statuses: Set<JobStatus>? = nil, parentID: Int64? = nil, topLevelOnly: Bool = false,
        limit: Int = 50, afterID: Int64? = nil, oldestFirst: Bool = false
    ) {
        self.afterID = afterID
        self.requester = requester
        self.statuses = statuses
        self.parentID = parentID
        self.topLevelOnly = topLevelOnly
        self.limit = limit
        self.oldestFirst = oldestFirst
    }
}

/// An agent as the registry keeps it.
public struct AgentRecord: Hashable, Sendable, Codable {
    public var id: String
    public var hostname: String
    public var labels: LabelSet
    public var commands: [String]
    public var slots: Int
    public var busy: Int
    public var version: String
    public var connected: Bool
    public var lastSeen: Double

    public init(
        id: String, hostname: String, labels: LabelSet, commands: [String], slots: Int, busy: Int = 0,
        version: String, connected: Bool, lastSeen: Double
    ) {
        self.id = id
        self.hostname = hostname
        self.labels = labels
        self.commands = commands
        self.slots = slots
        self.busy = busy
        self.version = version
        self.connected = connected
        self.lastSeen = lastSeen
    }

    public var info: AgentInfo { AgentInfo(id: id, labels: labels, commands: commands) }
}

/// A stored audit record.
public struct AuditEntry: Hashable, Sendable, Codable {
    public var id: Int64
    public var time: Double
    public var record: AuditRecord

    public init(id: Int64, time: Double, record: AuditRecord) {
        self.id = id
        self.time = time
        self.record = record
    }
}

/// An API token as stored: a name, the user it acts as, and the SHA-256 of the secret.
public struct APIToken: Hashable, Sendable, Codable {
    public var name: String
    public var user: String
    public var hash: String
    public var createdAt: Double
    public var revoked: Bool

    public init(name: String, user: String, hash: String, createdAt: Double, revoked: Bool = false) {
        self.name = name
        self.user = user
        self.hash = hash
        self.createdAt = createdAt
        self.revoked = revoked
    }
}
