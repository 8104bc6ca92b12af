/// What the interpreter asks the box to do; the box runs effects through its ports and feeds
/// results back as events.
public enum DialogEffect: Hashable, Sendable {
    /// Replace the dialog's message with this view.
    case show(DialogView)
    /// Post a new message (results, answers to built-ins).
    case post(DialogView)
    /// Store and queue the job.
    case submit(JobRequest)
    /// Ask the store something on the user's behalf and post the answer.
    case builtin(Builtin)
    /// Queue an approved two-factor job with the code its requester just gave.
    case releaseApproved(jobID: Int64, code: String)
    /// Cancel a job of this dialog.
    case cancelJob(Int64)
    /// Record a decision in the audit log.
    case audit(AuditRecord)
}

/// The built-ins of SPEC §5 that need the store.
public enum Builtin: Hashable, Sendable, Codable {
    case jobs(user: String)
    case job(Int64)
    case last(user: String)
    case logs(Int64)
    case tail(Int64)
    case cancel(Int64)
    case agents
    case audit(AuditQuery)
    case kill(Int64)
}

/// One decision for the audit trail; the box adds the time.
public struct AuditRecord: Hashable, Sendable, Codable {
    public var action: AuditAction
    public var user: String
    public var command: String?
    public var outcome: String
    public var reason: String?
    public var jobID: Int64?
    public var detail: String?

    public init(
        action: AuditAction, user: String, command: String? = nil, outcome: String, reason: String? = nil,
        jobID: Int64? = nil, detail: String? = nil
    ) {
        self.action = action
        self.user = user
        self.command = command
        self.outcome = outcome
        self.reason = reason
        self.jobID = jobID
        self.detail = detail
    }
}

/// A filter over the audit log.
public struct AuditQuery: Hashable, Sendable, Codable {
    public var user: String?
    public var command: String?
    public var outcome: String?
    public var since: Double?
    public var until: Double?
    public var limit: Int

    public init(
        user: String? = nil, command: String? = nil, outcome: String? = nil, since: Double? = nil,
        until: Double? = nil, limit: Int = 50
    ) {
        self.user = user
        self.command = command
        self.outcome = outcome
        self.since = since
        self.until = until
        self.limit = limit
    }
}
