public import MeeseeksConfig
import MeeseeksLabels

/// Decides which queued jobs start now, and where. Pure: the dispatcher gathers the inputs and
/// carries out the decisions.
///
/// Jobs are taken oldest first. A job starts when its command is under its `concurrency` and an
/// agent it may run on has a free slot; among equal agents the choice rotates (round robin, per
/// command). Jobs that cannot start stay queued, except when the policy no longer allows them at
/// all, which fails them with the reason.
public struct Scheduler: Sendable {
    /// An agent as the scheduler sees it.
    public enum Decision: Hashable, Sendable {
        case start(jobID: Int64, agent: String)
        case fail(jobID: Int64, reason: String)
    }

    /// The agent each command went to last, for round robin.
    public var lastAgent: [String: String] = [:]

    public init() {}

    /// Decides for `queued` (oldest first). `free` says how many jobs an agent may still take;
    /// the agents considered come from `fleet`, searched by the jobs' selectors.
    public mutating func plan(
        queued: [Job], running: [String: Int], fleet: some AgentFleet, free: (String) -> Int, configuration: Configuration,
        engine: PolicyEngine
    ) -> [Decision] {
        var decisions: [Decision] = []
        var running = running
        var taken: [String: Int] = [:]
        for job in queued where !job.isBroadcast {
            guard let spec = configuration.command(named: job.command) else {
                decisions.append(.fail(jobID: job.id, reason: "the command '\(job.command)' no longer exists"))
                continue
            }
            let grants = engine.grants(for: job.requester, command: spec.name)
            guard !grants.isEmpty else {
                let refusal = Refusal.noGrant(command: spec.name, roles: engine.roles(of: job.requester))
                decisions.append(.fail(jobID: job.id, reason: "refused at dispatch: \(refusal)"))
                continue
            }
            if let limit = spec.concurrency, running[spec.name, default: 0] >= limit { continue }
            // Fail closed: a stored selector that no longer parses fails the job, never widens.
            guard let selector = try? LabelSelector(job.selector) else {
                decisions.append(.fail(jobID: job.id, reason: "refused at dispatch: \(Refusal.invalidSelector(job.selector))"))
                continue
            }
            // The policy is checked again here: the agent must still be one the user may use.
            func usable(_ agent: AgentInfo) -> Bool {
                (job.agent == nil || job.agent == agent.id) && free(agent.id) - taken[agent.id, default: 0] > 0
                    && grants.contains { $0.on.matches(agent.labels) } && agent.serves(spec)
            }
            let chosen: AgentInfo?
            if let pinned = job.agent {
                chosen = fleet.agent(pinned).flatMap { agent in
                    selector.matches(agent.labels) && spec.selector.matches(agent.labels) && usable(agent) ? agent : nil
                }
            } else {
                chosen = fleet.nextAgent(after: lastAgent[spec.name], matchingAll: [selector, spec.selector], where: usable)
            }
            guard let chosen else { continue }
            taken[chosen.id, default: 0] += 1
            running[spec.name, default: 0] += 1
            lastAgent[spec.name] = chosen.id
            decisions.append(.start(jobID: job.id, agent: chosen.id))
        }
        return decisions
    }
}
