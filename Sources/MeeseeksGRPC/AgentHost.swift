public import MeeseeksConfig
public import MeeseeksCore

/// What the agent service needs from the box. The box implements it; this module never imports the box.
///
/// Every report names the agent it came from: a report about a job the box did not give that
/// agent (or about another attempt) changes nothing.
/// Whether a box takes agents: the leader does (and names its epoch); a standby sends them to
/// the leader.
public enum AgentAdmission: Sendable {
    case accept(epoch: UInt64)
    case redirect(leader: String?)
}

/// How the box knows an agent's token: its own enrolled credential, or (not enrolled) the
/// shared token.
public enum AgentAuthentication: Sendable {
    /// Enrolled, and the token is its own: the registration must stay within this binding.
    case enrolled(AgentCredential)
    /// No credential for this id: the shared `MEESEEKS_AGENT_TOKEN` decides.
    case notEnrolled
    /// Enrolled, and the token is not its own (the shared token does not open an enrolled id).
    case wrongToken
    /// The credentials cannot be read now: refused, never let through.
    case unavailable(String)
}

public protocol AgentHost: Sendable {
    /// Asked before each registration.
    func admission() async -> AgentAdmission
    /// Checks `token` against the credential enrolled for `agentID`.
    func authenticate(agentID: String, token: String) async -> AgentAuthentication
    /// Registers a connected agent with what it offers (its own commands, 2FA). Throws when
    /// another live connection holds the same id.
    func register(
        _ record: AgentRecord, offer: AgentOffer, session: String, link: any AgentLink, holding: [JobRef]
    ) async throws(AgentRefusal)
    /// The agent of `session` reloaded its own commands: `definitions` is the whole new set.
    func catalogChanged(_ agentID: String, session: String, definitions: [CommandSpec], digests: [String: String]) async
    /// The stream of `session` ended; `lastContact` is when the agent was last heard from.
    func disconnected(_ agentID: String, session: String, lastContact: Double) async
    func remoteStarted(_ jobID: Int64, attempt: Int, agent: String) async
    /// Output at byte `offset` of the job's output; what the box already has is skipped. A live
    /// chunk past a gap waits for the result's tail; the tail (`isTail`) is kept even past one,
    /// with a marker saying how much was lost.
    func remoteOutput(_ jobID: Int64, attempt: Int, offset: Int, bytes: [UInt8], isTail: Bool, agent: String) async
    /// Whether the result may be acknowledged (recorded, or a repeat): a box that no longer
    /// leads must not, so the agent keeps it for the next leader.
    func remoteFinished(_ jobID: Int64, attempt: Int, outcome: JobOutcome, agent: String) async -> Bool
    /// The agent could not or would not run a job it was given.
    func remoteRejected(_ jobID: Int64, attempt: Int, code: String, reason: String, agent: String) async
    /// An agent was turned away (wrong token, duplicate id, bad registration).
    func agentRefused(_ agentID: String?, reason: String, peer: String) async
    /// Seconds without a message before an agent counts as gone.
    func lostAfter() async -> Int
}

/// A job an agent still holds (running, or with a result not yet acknowledged).
public struct JobRef: Hashable, Sendable {
    public var jobID: Int64
    public var attempt: Int

    public init(jobID: Int64, attempt: Int) {
        self.jobID = jobID
        self.attempt = attempt
    }
}
