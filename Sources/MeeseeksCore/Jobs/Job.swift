/// The lifecycle of a job. `queued → running → succeeded | failed | timed_out | cancelled | lost`;
/// a queued job may also be cancelled or lost. A command that needs approval starts
/// `awaiting_approval`, then is queued once approved, or ends `denied`, `expired` or `cancelled`.
/// Final states never change.
public enum JobStatus: String, Hashable, Sendable, Codable, CaseIterable {
    case queued, running, succeeded, failed
    case timedOut = "timed_out"
    case cancelled, lost
    case awaitingApproval = "awaiting_approval"
    case denied, expired

    public var isFinal: Bool {
        switch self {
        case .queued, .running, .awaitingApproval: false
        default: true
        }
    }
}

/// One job: a command run once on one agent, or (with `mode: all`) the parent of one sub-job per
/// agent. Secret arguments are masked before a job is stored.
public struct Job: Hashable, Sendable, Codable {
    public var id: Int64
    /// Set on the sub-jobs of a broadcast.
    public var parentID: Int64?
    public var command: String
    /// Argument values as stored: secrets are masked.
    public var arguments: [String: String]
    public var requester: String
    public var channel: String?
    /// The `-l` selector the user gave, normalised; empty for none.
    public var selector: String
    /// The agent chosen to run it; a broadcast's sub-jobs are pinned to theirs at creation.
    public var agent: String?
    public var status: JobStatus
    public var exitCode: Int?
    /// Why it ended, for failures a user should understand ("timed out after 2m", "agent lost").
    public var reason: String?
    /// Seconds since 1970.
    public var createdAt: Double
    public var startedAt: Double?
    public var finishedAt: Double?
    /// Increased each time the job is handed to an agent; results carry it, so a late or repeated
    /// result is recognised.
    public var attempt: Int
    /// The dialog to tell when the job ends, if any.
    public var dialogID: String?
    public var isBroadcast: Bool
    /// A handed-back job waits until then (seconds since 1970) before it is dispatched again.
    public var notBefore: Double
    /// Whether the agent reported that it started this attempt: a running job its agent never
    /// started (and no longer holds) is queued again; one it started and lost is lost.
    public var confirmed: Bool
    /// The front-door request this job came from (`inbox:ID`), if any: stored uniquely, so a
    /// request carried out twice (its leader died before answering) makes one job.
    public var origin: String?

    public init(
        id: Int64 = 0, parentID: Int64? = nil, command: String, arguments: [String: String], requester: String,
        channel: String? = nil, selector: String = "", agent: String? = nil, status: JobStatus = .queued,
        exitCode: Int? = nil, reason: String? = nil, createdAt: Double, startedAt: Double? = nil,
        finishedAt: Double? = nil, attempt: Int = 0, dialogID: String? = nil, isBroadcast: Bool = false,
        notBefore: Double = 0, confirmed: Bool = false, origin: String? = nil
    ) {
        self.origin = origin
        self.notBefore = notBefore
        self.confirmed = confirmed
        self.id = id
        self.parentID = parentID
        self.command = command
        self.arguments = arguments
        self.requester = requester
        self.channel = channel
        self.selector = selector
        self.agent = agent
        self.status = status
        self.exitCode = exitCode
        self.reason = reason
        self.createdAt = createdAt
        self.startedAt = startedAt
        self.finishedAt = finishedAt
        self.attempt = attempt
        self.dialogID = dialogID
        self.isBroadcast = isBroadcast
    }

    /// Seconds the job ran, once it has ended.
    public var duration: Double? {
        guard let startedAt, let finishedAt else { return nil }
        return max(0, finishedAt - startedAt)
    }
}

/// What a finished process reports.
public struct JobOutcome: Hashable, Sendable, Codable {
    public var status: JobStatus
    public var exitCode: Int?
    public var signal: Int?
    public var reason: String?

    public init(status: JobStatus, exitCode: Int? = nil, signal: Int? = nil, reason: String? = nil) {
        self.status = status
        self.exitCode = exitCode
        self.signal = signal
        self.reason = reason
    }
}

/// The value shown in place of a secret argument.
public let maskedValue = "••••••"
