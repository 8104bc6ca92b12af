/// The box's handle on one connected agent: the embedded one, or a remote `mrmeeseeks` over gRPC.
public protocol AgentLink: Sendable {
    /// Hands a job to the agent without waiting for it (the box calls this while it schedules).
    /// Throws when it cannot be delivered; the job is then requeued.
    func dispatch(_ plan: ExecutionPlan) throws
    /// Asks the agent to stop a job (SIGTERM to its process group, then SIGKILL).
    func cancel(jobID: Int64, attempt: Int) async
    /// Ends the connection (the box stopped leading): the agent reconnects, to the new leader.
    func close()
}

extension AgentLink {
    public func close() {}
}

/// Where agents report what their jobs do. Reports carry the attempt, so a late or repeated report
/// changes nothing.
public protocol JobReporter: Sendable {
    func jobStarted(_ id: Int64, attempt: Int) async
    func jobOutput(_ id: Int64, attempt: Int, _ bytes: [UInt8]) async
    func jobFinished(_ id: Int64, attempt: Int, _ outcome: JobOutcome) async
    /// The agent would not start the job: `code` is `two_factor` or `two_factor_locked` when the
    /// user's code was refused, `busy` or `shutting_down` when it should go elsewhere.
    func jobRefused(_ id: Int64, attempt: Int, code: String, reason: String) async
}

/// Why an agent's registration was refused.
public struct AgentRefusal: Error, Sendable, CustomStringConvertible {
    public var description: String

    public init(_ description: String) {
        self.description = description
    }
}
