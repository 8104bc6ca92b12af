public import MeeseeksCore

/// The JSON of `/api/v1`, shared by the server and the `meeseeks` CLI.
public enum API {
    /// Who a request acts for.
    public struct Principal: Sendable, Hashable, Codable {
        public var user: String
        public var isAdmin: Bool
        /// Bootstrap and admin tokens may act as another user (`X-Meeseeks-As`), as `meeseeks chat --as` does.
        public var mayActAsOthers: Bool
        /// The token's own user when it acts as `user` (`X-Meeseeks-As`): such a request may not
        /// approve, deny, or request a command that needs approval (four eyes means two people).
        public var impersonatedBy: String?

        public init(user: String, isAdmin: Bool, mayActAsOthers: Bool, impersonatedBy: String? = nil) {
            self.user = user
            self.isAdmin = isAdmin
            self.mayActAsOthers = mayActAsOthers
            self.impersonatedBy = impersonatedBy
        }
    }

    public struct OpenDialog: Codable, Sendable {
        public var text: String
        public var channel: String?
        /// Set by the server, never by a client: who really asked, when a token acts as another user.
        public var actedBy: String?

        public init(text: String, channel: String? = nil) {
            self.text = text
            self.channel = channel
        }

        public init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            text = try container.decodeIfPresent(String.self, forKey: .text) ?? ""
            channel = try container.decodeIfPresent(String.self, forKey: .channel)
            actedBy = try container.decodeIfPresent(String.self, forKey: .actedBy)
        }
    }

    /// One message of a dialog, in order: `replace` means it updates the dialog's message in place.
    public struct Message: Codable, Sendable, Hashable {
        public var seq: Int
        public var replace: Bool
        public var view: DialogView
        /// The view as text, in the box's persona.
        public var text: String

        public init(seq: Int, replace: Bool, view: DialogView, text: String) {
            self.seq = seq
            self.replace = replace
            self.view = view
            self.text = text
        }
    }

    public struct DialogState: Codable, Sendable {
        public var id: String
        public var user: String
        public var finished: Bool
        public var jobID: Int64?
        public var messages: [Message]

        public init(id: String, user: String, finished: Bool, jobID: Int64?, messages: [Message]) {
            self.id = id
            self.user = user
            self.finished = finished
            self.jobID = jobID
            self.messages = messages
        }
    }

    public struct RunRequest: Codable, Sendable {
        public var command: String
        /// Values by position, in the command's argument order.
        public var positional: [String]
        public var arguments: [String: String]
        public var selector: String?
        /// A TOTP code, for two-factor commands.
        public var code: String?

        public init(
            command: String, positional: [String] = [], arguments: [String: String] = [:], selector: String? = nil, code: String? = nil
        ) {
            self.command = command
            self.positional = positional
            self.arguments = arguments
            self.selector = selector
            self.code = code
        }

        // Only `command` is required: a client that sends no arguments sends no empty list either.
        public init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            command = try container.decode(String.self, forKey: .command)
            positional = try container.decodeIfPresent([String].self, forKey: .positional) ?? []
            arguments = try container.decodeIfPresent([String: String].self, forKey: .arguments) ?? [:]
            selector = try container.decodeIfPresent(String.self, forKey: .selector)
            code = try container.decodeIfPresent(String.self, forKey: .code)
        }
    }

    public struct JobDetail: Codable, Sendable {
        public var job: Job
        public var children: [Job]

        public init(job: Job, children: [Job]) {
            self.job = job
            self.children = children
        }
    }

    public struct Jobs: Codable, Sendable {
        public var jobs: [Job]

        public init(jobs: [Job]) { self.jobs = jobs }
    }

    public struct Agents: Codable, Sendable {
        public var agents: [AgentRecord]

        public init(agents: [AgentRecord]) { self.agents = agents }
    }

    public struct Audit: Codable, Sendable {
        public var entries: [AuditEntry]

        public init(entries: [AuditEntry]) { self.entries = entries }
    }

    /// The boxes sharing one database, and which leads.
    public struct Cluster: Codable, Sendable {
        /// This box's id, and whether it leads (`leader`) or stands by (`standby`).
        public var this: String
        public var role: String
        public var leader: String?
        public var epoch: Int64
        /// Seconds since the leader last renewed its lease, and until it expires (none for a box
        /// alone, which needs no lease).
        public var leaseAge: Double?
        public var leaseExpiresIn: Double?
        public var members: [ClusterMember]

        public init(
            this: String, role: String, leader: String?, epoch: Int64, leaseAge: Double?, leaseExpiresIn: Double?, members: [ClusterMember]
        ) {
            self.this = this
            self.role = role
            self.leader = leader
            self.epoch = epoch
            self.leaseAge = leaseAge
            self.leaseExpiresIn = leaseExpiresIn
            self.members = members
        }
    }

    /// Errors come back as `{"error": "..."}` with a 4xx or 5xx status.
    /// A job awaiting approval, as an approver sees it.
    public struct Approval: Codable, Sendable, Hashable {
        public var job: Job
        public var need: DialogView.ApprovalNeed
        public var decisions: [ApprovalDecision]
        /// Seconds since 1970.
        public var expiresAt: Double

        public init(job: Job, need: DialogView.ApprovalNeed, decisions: [ApprovalDecision], expiresAt: Double) {
            self.job = job
            self.need = need
            self.decisions = decisions
            self.expiresAt = expiresAt
        }
    }

    public struct Approvals: Codable, Sendable {
        public var approvals: [Approval]

        public init(approvals: [Approval]) { self.approvals = approvals }
    }

    /// The body of `POST /api/v1/jobs/ID/deny` (and, empty, of `…/approve`).
    public struct Decision: Codable, Sendable {
        public var reason: String?

        public init(reason: String? = nil) { self.reason = reason }
    }

    public struct ErrorBody: Codable, Sendable {
        public var error: String

        public init(error: String) { self.error = error }
    }

    /// A failure the API turns into a status and a message.
    public struct Failure: Error, Sendable, Codable {
        public enum Kind: String, Sendable, Codable { case badRequest, unauthorized, forbidden, notFound, conflict, unavailable }
        public var kind: Kind
        public var message: String

        public init(_ kind: Kind, _ message: String) {
            self.kind = kind
            self.message = message
        }
    }
}

/// What the HTTP API needs from the box. The box implements it; this module never imports the box.
public protocol APIService: Sendable {
    /// The principal for a bearer token, or nil.
    func authenticate(token: String) async -> API.Principal?
    /// Whether `user` holds the admin role.
    func isAdmin(_ user: String) async -> Bool
    /// Records that `principal` acts as `other` for one request (`X-Meeseeks-As`): both identities.
    func impersonated(by principal: API.Principal, as other: String, request: String) async
    func openDialog(_ request: API.OpenDialog, as user: String) async throws -> API.DialogState
    func send(_ input: DialogInput, to dialogID: String, as user: String) async throws -> API.DialogState
    func messages(of dialogID: String, as user: String, after seq: Int, wait: Double) async throws -> API.DialogState
    func run(_ request: API.RunRequest, as principal: API.Principal) async throws -> Job
    func jobs(of user: String?, limit: Int) async throws -> [Job]
    func job(_ id: Int64, as principal: API.Principal) async throws -> API.JobDetail
    /// Output from byte `offset`; waits up to `wait` seconds for more while the job runs.
    func output(of id: Int64, from offset: Int, wait: Double, as principal: API.Principal) async throws -> (bytes: [UInt8], job: Job)
    func cancel(_ id: Int64, as principal: API.Principal) async throws -> Job
    /// Jobs awaiting approval that the principal may approve or deny now.
    func approvals(as principal: API.Principal) async throws -> [API.Approval]
    /// Approves or denies (with a reason) a job awaiting approval; the job as it then stands.
    func decide(_ id: Int64, approve: Bool, reason: String?, as principal: API.Principal) async throws -> API.Approval
    /// The fleet, for a principal who holds a role (default deny covers the fleet view too).
    func agents(as principal: API.Principal) async throws -> [AgentRecord]
    func audit(_ query: AuditQuery) async throws -> [AuditEntry]
    /// Which readiness checks pass, by name.
    func readiness() async -> [String: Bool]
    /// `leader` or `standby` (both take traffic).
    func role() async -> String
    /// The cluster this box belongs to (a box alone is a cluster of one).
    func cluster() async throws -> API.Cluster
    /// Reloads the configuration; the diagnostics when it is refused.
    func reload() async -> (applied: Bool, diagnostics: [String])
    /// The Prometheus exposition.
    func metricsText() async -> String
}
