/// One conversation with one user, persisted between events (keyed by `id`).
///
/// ```
/// menu ─pick→ prompting(arg)… ─→ confirming ─yes→ awaitingCode ─code→ submitted ─accepted→ running ─→ finished
///   a two-factor command that needs approval: … confirming ─yes→ submitted ─accepted→ running
///   ─approved→ awaitingCodeToRun ─code→ running ─→ finished
///   any interactive phase ─cancel / no / refusal / expiry→ finished
/// ```
public struct Dialog: Hashable, Sendable, Codable {
    public enum Phase: Hashable, Sendable, Codable {
        /// The greeting and the commands this user may run are shown.
        case menu
        /// Waiting for the value of one argument.
        case prompting(String)
        /// "Are you sure?"
        case confirming
        /// Waiting for a TOTP code.
        case awaitingCode
        /// The job request was handed over; its id is not known yet.
        case submitted
        /// The job is queued, running, or awaiting approval.
        case running(jobID: Int64)
        /// A two-factor job its approvers approved: waiting for the requester's code, given now
        /// (not before the approval, when it would have gone stale) so its agent checks a fresh one.
        case awaitingCodeToRun(jobID: Int64)
        /// Nothing more happens in this dialog.
        case finished

        /// Phases in which the user is expected to act, and which therefore expire when idle.
        public var isInteractive: Bool {
            switch self {
            case .menu, .prompting, .confirming, .awaitingCode, .awaitingCodeToRun: true
            default: false
            }
        }
    }

    public var id: String
    public var user: String
    public var channel: String?
    public var phase: Phase = .menu
    public var command: String?
    /// Answers given so far, real values (secrets are masked only in views and storage of jobs).
    public var answers: [String: String] = [:]
    /// Whether the arguments came from a typed request: optional ones are then not prompted.
    public var typed = false
    /// Optional arguments the user chose to leave out.
    public var skipped: [String] = []
    /// The `-l` selector the user gave, as typed.
    public var selector: String = ""
    /// Agent ids the request was allowed on, at the last check.
    public var targets: [String] = []
    /// Increased with every interactive view; an event must carry the step of the view it answers.
    public var step = 0
    public var createdAt: Double
    public var updatedAt: Double
    public var codeFailures = 0
    public var jobID: Int64?
    /// Where the dialog lives, for the transport that renders it (`kind` = `api` or `slack`, with
    /// the transport's own keys such as a channel and message timestamp). The interpreter never
    /// reads it.
    public var transport: [String: String] = [:]

    public init(id: String, user: String, channel: String? = nil, now: Double) {
        self.id = id
        self.user = user
        self.channel = channel
        self.createdAt = now
        self.updatedAt = now
    }
}
