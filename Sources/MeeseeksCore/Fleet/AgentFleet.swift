public import MeeseeksLabels

/// The agents a decision may consider, searched by label selector. The policy engine and the
/// scheduler ask it instead of scanning every agent, so a fleet of thousands costs little per
/// request.
public protocol AgentFleet: Sendable {
    /// The agents that every selector matches, sorted by id.
    func agents(matchingAll selectors: [LabelSelector]) -> [AgentInfo]
    /// Whether any agent matches every selector.
    func hasAgent(matchingAll selectors: [LabelSelector]) -> Bool
    /// The first `limit` agents, by id, that every selector matches and `accept` takes: a walk
    /// that stops once it has them, so naming a few targets among thousands costs a few steps.
    func agents(matchingAll selectors: [LabelSelector], limit: Int, where accept: (AgentInfo) -> Bool) -> [AgentInfo]
    /// One agent by id.
    func agent(_ id: String) -> AgentInfo?
    /// Round robin: the first agent after `id` in id order (wrapping around) that every selector
    /// matches and `accept` takes; the first such agent when `id` is nil.
    func nextAgent(after id: String?, matchingAll selectors: [LabelSelector], where accept: (AgentInfo) -> Bool) -> AgentInfo?
}

extension AgentFleet {
    public func agents(matchingAll selectors: [LabelSelector], limit: Int, where accept: (AgentInfo) -> Bool) -> [AgentInfo] {
        Array(agents(matchingAll: selectors).lazy.filter(accept).prefix(max(0, limit)))
    }

    public func hasAgent(matchingAll selectors: [LabelSelector], where accept: (AgentInfo) -> Bool) -> Bool {
        !agents(matchingAll: selectors, limit: 1, where: accept).isEmpty
    }

    public func nextAgent(after id: String?, matchingAll selectors: [LabelSelector], where accept: (AgentInfo) -> Bool) -> AgentInfo? {
        let candidates = agents(matchingAll: selectors)
        let start = id.map { last in candidates.firstIndex { $0.id > last } ?? candidates.count } ?? 0
        for offset in 0..<candidates.count {
            let agent = candidates[(start + offset) % candidates.count]
            if accept(agent) { return agent }
        }
        return nil
    }
}

/// A plain list is a fleet: every question scans it. What tests and `policy explain` use.
extension Array: AgentFleet where Element == AgentInfo {
    public func agents(matchingAll selectors: [LabelSelector]) -> [AgentInfo] {
        filter { agent in selectors.allSatisfy { $0.matches(agent.labels) } }.sorted { $0.id < $1.id }
    }

    public func hasAgent(matchingAll selectors: [LabelSelector]) -> Bool {
        contains { agent in selectors.allSatisfy { $0.matches(agent.labels) } }
    }

    public func agent(_ id: String) -> AgentInfo? {
        first { $0.id == id }
    }
}
