/// Something that happened to a dialog: the user acted, or the box reports on the job.
public enum DialogEvent: Hashable, Sendable, Codable {
    /// A mention, DM, slash command or `meeseeks chat` with whatever text followed.
    case opened(text: String)
    case picked(command: String)
    case answered(value: String)
    /// Take the default (or skip an optional argument).
    case skipped
    case confirmed(Bool)
    case codeEntered(String)
    case cancelled
    /// The runner stored the job.
    case jobAccepted(jobID: Int64)
    /// The runner could not queue the job.
    case jobRejected(reason: String)
    case jobFinished(JobReport)
    /// The agent refused the 2FA code; `final` when the user may not try again.
    case codeRejected(message: String, final: Bool)
    /// Enough people approved a two-factor job: its requester gives the code now.
    case approved(jobID: Int64)
    /// Time passed: expires an idle dialog.
    case tick
    /// The dialog was found handed over but without its job: the box that took it died, or
    /// lost its database, before storing the job. The hand-over is made again.
    case resumed

    /// Events the user causes; they expire and must carry the step of the view they answer.
    var isUserAction: Bool {
        switch self {
        case .picked, .answered, .skipped, .confirmed, .codeEntered, .cancelled: true
        default: false
        }
    }
}

/// An event with the step of the view it answers (nil for events not tied to a view).
public struct DialogInput: Hashable, Sendable, Codable {
    public var event: DialogEvent
    public var step: Int?

    public init(_ event: DialogEvent, step: Int? = nil) {
        self.event = event
        self.step = step
    }
}

/// How a job ended, as the dialog reports it.
public struct JobReport: Hashable, Sendable, Codable {
    public var jobID: Int64
    public var command: String
    public var status: JobStatus
    public var exitCode: Int?
    public var reason: String?
    /// The tail of the output that fits a message, and whether more was cut.
    public var output: String
    public var truncated: Bool
    /// For broadcasts: one line per agent.
    public var perAgent: [AgentResult]

    public struct AgentResult: Hashable, Sendable, Codable {
        public var agent: String
        public var jobID: Int64
        public var status: JobStatus
        public var exitCode: Int?
        public var output: String

        public init(agent: String, jobID: Int64, status: JobStatus, exitCode: Int?, output: String) {
            self.agent = agent
            self.jobID = jobID
            self.status = status
            self.exitCode = exitCode
            self.output = output
        }
    }

    public init(
        jobID: Int64, command: String, status: JobStatus, exitCode: Int? = nil, reason: String? = nil,
        output: String = "", truncated: Bool = false, perAgent: [AgentResult] = []
    ) {
        self.jobID = jobID
        self.command = command
        self.status = status
        self.exitCode = exitCode
        self.reason = reason
        self.output = output
        self.truncated = truncated
        self.perAgent = perAgent
    }
}
