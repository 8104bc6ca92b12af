public import MeeseeksConfig

/// What the user sees, independent of Slack or the terminal; renderers turn these into Block Kit
/// or text and pick the persona's phrase for each moment.
public enum DialogView: Hashable, Sendable, Codable {
    case menu(Menu)
    case prompt(Prompt)
    case confirm(Confirmation)
    case challenge(Challenge)
    case accepted(Accepted)
    case result(Result)
    /// A running job: the end of its output so far and the time it has run (edited in place).
    case progress(Progress)
    case notice(Notice)
    case help(Help)
    /// The message asking approvers to approve or deny a job.
    case approvalRequest(ApprovalRequest)

    public struct CommandEntry: Hashable, Sendable, Codable {
        public var name: String
        public var summary: String

        public init(name: String, summary: String) {
            self.name = name
            self.summary = summary
        }
    }

    public struct Menu: Hashable, Sendable, Codable {
        public var dialogID: String
        public var step: Int
        public var user: String
        public var commands: [CommandEntry]

        public init(dialogID: String, step: Int, user: String, commands: [CommandEntry]) {
            self.dialogID = dialogID
            self.step = step
            self.user = user
            self.commands = commands
        }
    }

    public struct Prompt: Hashable, Sendable, Codable {
        public var dialogID: String
        public var step: Int
        public var command: String
        public var argument: String
        public var question: String
        public var kind: ArgumentSpec.Kind
        public var choices: [String]
        public var defaultValue: String?
        public var required: Bool
        public var secret: Bool
        /// Why the previous answer was refused, if it was.
        public var error: String?

        public init(
            dialogID: String, step: Int, command: String, argument: String, question: String, kind: ArgumentSpec.Kind, choices: [String],
            defaultValue: String? = nil, required: Bool, secret: Bool, error: String? = nil
        ) {
            self.dialogID = dialogID
            self.step = step
            self.command = command
            self.argument = argument
            self.question = question
            self.kind = kind
            self.choices = choices
            self.defaultValue = defaultValue
            self.required = required
            self.secret = secret
            self.error = error
        }
    }

    public struct Confirmation: Hashable, Sendable, Codable {
        public var dialogID: String
        public var step: Int
        public var command: String
        /// The command's own confirmation text, if it has one.
        public var text: String?
        /// `name=value` lines, secrets masked.
        public var arguments: [String]
        public var targets: [String]
        public var destructive: Bool

        public init(
            dialogID: String, step: Int, command: String, text: String? = nil, arguments: [String], targets: [String], destructive: Bool
        ) {
            self.dialogID = dialogID
            self.step = step
            self.command = command
            self.text = text
            self.arguments = arguments
            self.targets = targets
            self.destructive = destructive
        }
    }

    public struct Challenge: Hashable, Sendable, Codable {
        public var dialogID: String
        public var step: Int
        public var command: String
        public var error: String?

        public init(dialogID: String, step: Int, command: String, error: String? = nil) {
            self.dialogID = dialogID
            self.step = step
            self.command = command
            self.error = error
        }
    }

    public struct Accepted: Hashable, Sendable, Codable {
        public var user: String
        public var command: String
        public var jobID: Int64
        public var targets: [String]
        /// Set when the job waits for approval first: who must approve, and for how long.
        public var approval: ApprovalNeed?

        public init(user: String, command: String, jobID: Int64, targets: [String], approval: ApprovalNeed? = nil) {
            self.user = user
            self.command = command
            self.jobID = jobID
            self.targets = targets
            self.approval = approval
        }
    }

    /// Who must approve a job before it runs.
    public struct ApprovalNeed: Hashable, Sendable, Codable {
        public var roles: [String]
        public var count: Int
        /// Seconds it waits before it expires.
        public var timeout: Int

        public init(roles: [String], count: Int, timeout: Int) {
            self.roles = roles
            self.count = count
            self.timeout = timeout
        }

        /// "1 approval from sre-lead, within 30m".
        public var summary: String {
            "\(count == 1 ? "1 approval" : "\(count) approvals from different people") from \(roles.joined(separator: " or ")), within \(DurationText.format(timeout))"
        }
    }

    /// A job waiting for approval, as its approvers see it (and, once decided, how it stands).
    public struct ApprovalRequest: Hashable, Sendable, Codable {
        public var jobID: Int64
        public var command: String
        /// `name=value`, secrets masked.
        public var arguments: [String]
        public var targets: [String]
        public var requester: String
        /// Seconds since 1970.
        public var requestedAt: Double
        public var expiresAt: Double
        public var need: ApprovalNeed
        public var approvedBy: [String]
        /// Set once the request is no longer open: approved (queued), denied, expired, cancelled.
        public var closed: String?

        public init(
            jobID: Int64, command: String, arguments: [String], targets: [String], requester: String, requestedAt: Double,
            expiresAt: Double, need: ApprovalNeed, approvedBy: [String] = [], closed: String? = nil
        ) {
            self.jobID = jobID
            self.command = command
            self.arguments = arguments
            self.targets = targets
            self.requester = requester
            self.requestedAt = requestedAt
            self.expiresAt = expiresAt
            self.need = need
            self.approvedBy = approvedBy
            self.closed = closed
        }
    }

    public struct Progress: Hashable, Sendable, Codable {
        public var user: String
        public var command: String
        public var jobID: Int64
        /// Whole seconds since it started.
        public var elapsed: Int
        /// The last lines of output so far (empty for a broadcast).
        public var tail: String
        /// For a broadcast: each agent and how its part stands (running, succeeded, failed…).
        public var agents: [AgentLine]
        /// How it ended, for the last edit once it has (nil while it runs).
        public var ended: JobStatus?

        public struct AgentLine: Hashable, Sendable, Codable {
            public var agent: String
            public var status: JobStatus

            public init(agent: String, status: JobStatus) {
                self.agent = agent
                self.status = status
            }
        }

        public init(
            user: String, command: String, jobID: Int64, elapsed: Int, tail: String, agents: [AgentLine] = [], ended: JobStatus? = nil
        ) {
            self.ended = ended
            self.user = user
            self.command = command
            self.jobID = jobID
            self.elapsed = elapsed
            self.tail = tail
            self.agents = agents
        }
    }

    public struct Result: Hashable, Sendable, Codable {
        public var user: String
        public var report: JobReport

        public init(user: String, report: JobReport) {
            self.user = user
            self.report = report
        }
    }

    public struct Notice: Error, Hashable, Sendable, Codable {
        public enum Kind: String, Hashable, Sendable, Codable {
            case refused, invalid, cancelled, expired, stale, info
        }

        public var kind: Kind
        public var text: String

        public init(_ kind: Kind, _ text: String) {
            self.kind = kind
            self.text = text
        }
    }

    public struct Help: Hashable, Sendable, Codable {
        public var commands: [CommandEntry]
        public var builtins: [CommandEntry]

        public init(commands: [CommandEntry], builtins: [CommandEntry]) {
            self.commands = commands
            self.builtins = builtins
        }
    }

    /// The dialog and step an interactive view answers to, for renderers to embed in buttons.
    public var interaction: (dialogID: String, step: Int)? {
        switch self {
        case .menu(let v): (v.dialogID, v.step)
        case .prompt(let v): (v.dialogID, v.step)
        case .confirm(let v): (v.dialogID, v.step)
        case .challenge(let v): (v.dialogID, v.step)
        default: nil
        }
    }
}
