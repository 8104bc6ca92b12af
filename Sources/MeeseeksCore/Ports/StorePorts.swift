/// The store, as narrow ports: each part of the box takes only the ones it uses, and each has a
/// conformance suite that SQLite, PostgreSQL and the in-memory test store must all pass.
///
/// Calls are synchronous and short; implementations serialise access themselves.
public typealias BoxStore = JobQueueStore & JobHistoryStore & DialogStore & AgentStore & AuditStore & TokenStore
    & OutboxStore & EventLedger & AgentCredentialStore & ApprovalStore

/// Job state, as the dispatcher changes it: the only writer of a job's status.
public protocol JobQueueStore: Sendable {
    /// Stores new jobs (a single job, or a broadcast parent followed by its children) atomically and
    /// returns them with their ids. Children get `parentID` set to the parent's new id.
    /// `secrets` (secret argument values and the 2FA code) are kept sealed with every job that
    /// runs, until it ends. A job whose `origin` is already stored is not stored again: the
    /// stored one is returned (with its children), so a repeated request makes one job.
    func insert(_ job: Job, children: [Job], secrets: JobSecrets?) throws -> (Job, [Job])
    /// Marks a queued job running on `agent` with a new attempt number; nil if it was not queued.
    func start(_ id: Int64, agent: String, at time: Double) throws -> Job?
    /// Ends a job once: a result for a final job, or for another attempt, changes nothing and
    /// returns nil. Its secrets are erased.
    func finish(_ id: Int64, attempt: Int?, outcome: JobOutcome, at time: Double) throws -> Job?
    /// Puts a running job back in the queue (its agent handed it back before starting it, or never
    /// got it), not to be dispatched before `notBefore`.
    func requeue(_ id: Int64, attempt: Int, notBefore: Double) throws -> Bool
    /// Replaces the sealed secrets of a job awaiting approval (its 2FA code, given once it was
    /// approved); false when the job is not awaiting approval.
    func keepSecrets(_ secrets: JobSecrets, of id: Int64) throws -> Bool
    /// Queues a job that was awaiting approval (a broadcast with its sub-jobs); false when it
    /// was not awaiting approval.
    func release(_ id: Int64) throws -> Bool
    /// How often a job was handed back: its next backoff.
    func handbacks(_ id: Int64) throws -> Int
    /// Records that the agent started this attempt; false when it is not the running attempt.
    func confirmStarted(_ id: Int64, attempt: Int) throws -> Bool
    /// The job's secrets, opened; nil when it has none (or has ended). Throws `SealError` when
    /// they cannot be opened: the job must then fail, never run with masked values.
    func secrets(of id: Int64) throws -> JobSecrets?
    /// Queued jobs (broadcast parents aside) with an id above `afterID`, oldest first.
    func queued(after afterID: Int64, limit: Int) throws -> [Job]
    /// Every running job (broadcast parents aside): read once at start, then kept in memory.
    func runningJobs() throws -> [Job]
    /// Jobs waiting to start (broadcast parents aside), and when the oldest was queued.
    func queueStats() throws -> (depth: Int, oldest: Double?)
}

/// Decisions on jobs awaiting approval: one per person and job, deleted with the job.
public protocol ApprovalStore: Sendable {
    /// Records a decision; false when that person already decided on that job.
    func recordDecision(_ decision: ApprovalDecision) throws -> Bool
    /// The decisions on a job, oldest first.
    func decisions(on jobID: Int64) throws -> [ApprovalDecision]
}

/// Jobs as history: what users list and read, and their output.
public protocol JobHistoryStore: Sendable {
    func job(_ id: Int64) throws -> Job?
    func jobs(_ query: JobQuery) throws -> [Job]
    /// Appends output, keeping at most `limit` bytes per job and a marker after them.
    func appendOutput(_ id: Int64, _ bytes: [UInt8], limit: Int) throws
    /// Output from byte `offset`, at most `limit` bytes.
    func output(_ id: Int64, from offset: Int, limit: Int) throws -> [UInt8]
    func outputSize(_ id: Int64) throws -> Int
    /// Deletes finished jobs, their output, dialogs, audit entries and delivered messages older
    /// than `time`; returns how many jobs went.
    func purge(before time: Double) throws -> Int
}

/// Dialogs in flight, sealed at rest.
public protocol DialogStore: Sendable {
    func save(_ dialog: Dialog) throws
    func dialog(_ id: String) throws -> Dialog?
    /// Dialogs waiting for their user since before `time` (oldest first).
    func idleDialogs(before time: Double, limit: Int) throws -> [String]
}

/// Agents as last seen, for the fleet view of agents that are gone.
public protocol AgentStore: Sendable {
    func save(_ agent: AgentRecord) throws
    func agents() throws -> [AgentRecord]
}

/// The audit trail: appended to, never changed.
public protocol AuditStore: Sendable {
    func append(_ record: AuditRecord, at time: Double) throws
    func audit(_ query: AuditQuery) throws -> [AuditEntry]
}

/// API tokens: only hashes are stored.
public protocol TokenStore: Sendable {
    func saveToken(_ token: APIToken) throws
    func token(hash: String) throws -> APIToken?
    func tokens() throws -> [APIToken]
    func revokeToken(name: String) throws -> Bool
}

/// Inbound chat events and request signatures already taken, so a retry or a replay is not a
/// new request.
public protocol EventLedger: Sendable {
    /// Records an id; false if it was already recorded. Ids older than `forgetBefore` are dropped.
    func firstSighting(ofEvent id: String, at time: Double, forgetBefore: Double) throws -> Bool
}
