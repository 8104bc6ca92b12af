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
    public struct Slot: Hashable, Sendable {
        public var agent: AgentInfo
        public var free: Int

        public init(agent: AgentInfo, free: Int) {
            self.agent = agent
            self.free = free
        }
    }

    public enum Decision: Hashable, Sendable {
        case start(jobID: Int64, agent: String)
        case fail(jobID: Int64, reason: String)
    }

    /// The agent each command went to last, for round robin.
    public var lastAgent: [String: String] = [:]

    public init() {}

    public mutating func plan(
        queued: [Job], running: [String: Int], slots: [Slot], configuration: Configuration, engine: PolicyEngine
    ) -> [Decision] {
        var decisions: [Decision] = []
        var running = running
        var free = Dictionary(uniqueKeysWithValues: slots.map { ($0.agent.id, $0.free) })
        let agents = slots.map(\.agent).sorted { $0.id < $1.id }
        for job in queued where !job.isBroadcast {
            guard let spec = configuration.command(named: job.command) else {
                decisions.append(.fail(jobID: job.id, reason: "the command '\(job.command)' no longer exists"))
                continue
            }
            guard engine.mayRequest(user: job.requester, command: spec.name) else {
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
            let candidates = agents.filter { agent in
                (job.agent == nil || job.agent == agent.id) && free[agent.id, default: 0] > 0
                    && selector.matches(agent.labels) && engine.permits(user: job.requester, command: spec, on: agent)
            }
            guard let chosen = next(after: lastAgent[spec.name], in: candidates) else { continue }
            free[chosen.id, default: 0] -= 1
            running[spec.name, default: 0] += 1
            lastAgent[spec.name] = chosen.id
            decisions.append(.start(jobID: job.id, agent: chosen.id))
        }
        return decisions
    }

    /// The first candidate after `last` in id order, wrapping around.
    private func next(after last: String?, in candidates: [AgentInfo]) -> AgentInfo? {
        guard let last else { return candidates.first }
        return candidates.first { $0.id > last } ?? candidates.first
    }
}
