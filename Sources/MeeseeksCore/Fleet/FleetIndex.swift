public import MeeseeksLabels

/// The connected agents, indexed by label: a selector with an equality, `in` or existence
/// requirement reads only the agents that have the label, not the whole fleet.
public struct FleetIndex: AgentFleet, Sendable {
    private var byID: [String: AgentInfo] = [:]
    /// Every id, sorted, kept in order on insert and remove (binary search).
    private var sortedIDs: [String] = []
    /// key → value → ids.
    private var byLabel: [String: [String: Set<String>]] = [:]
    /// key → ids that have the key.
    private var byKey: [String: Set<String>] = [:]

    public init(_ agents: [AgentInfo] = []) {
        for agent in agents { insert(agent) }
    }

    public var count: Int { byID.count }
    public var all: [AgentInfo] { sortedIDs.compactMap { byID[$0] } }

    public mutating func insert(_ agent: AgentInfo) {
        if byID[agent.id] != nil { remove(agent.id) }
        byID[agent.id] = agent
        sortedIDs.insert(agent.id, at: Self.insertionPoint(of: agent.id, in: sortedIDs))
        for (key, value) in agent.labels.values {
            byLabel[key, default: [:]][value, default: []].insert(agent.id)
            byKey[key, default: []].insert(agent.id)
        }
    }

    public mutating func remove(_ id: String) {
        guard let agent = byID.removeValue(forKey: id) else { return }
        let index = Self.insertionPoint(of: id, in: sortedIDs)
        if index < sortedIDs.count, sortedIDs[index] == id { sortedIDs.remove(at: index) }
        for (key, value) in agent.labels.values {
            byLabel[key]?[value]?.remove(id)
            if byLabel[key]?[value]?.isEmpty == true { byLabel[key]?[value] = nil }
            if byLabel[key]?.isEmpty == true { byLabel[key] = nil }
            byKey[key]?.remove(id)
            if byKey[key]?.isEmpty == true { byKey[key] = nil }
        }
    }

    public func agent(_ id: String) -> AgentInfo? { byID[id] }

    /// Changes which of its own commands an agent runs (its labels, and so the index, stay).
    public mutating func setOwnCommands(of id: String, owns: Set<String>, defines: Set<String>) {
        byID[id]?.owns = owns
        byID[id]?.defines = defines
    }

    public func agents(matchingAll selectors: [LabelSelector]) -> [AgentInfo] {
        candidates(selectors).compactMap { id in
            guard let agent = byID[id], selectors.allSatisfy({ $0.matches(agent.labels) }) else { return nil }
            return agent
        }
    }

    public func agents(matchingAll selectors: [LabelSelector], limit: Int, where accept: (AgentInfo) -> Bool) -> [AgentInfo] {
        var found: [AgentInfo] = []
        guard limit > 0 else { return found }
        for id in candidates(selectors) {
            guard let agent = byID[id], selectors.allSatisfy({ $0.matches(agent.labels) }), accept(agent) else { continue }
            found.append(agent)
            if found.count == limit { break }
        }
        return found
    }

    public func hasAgent(matchingAll selectors: [LabelSelector]) -> Bool {
        candidates(selectors).contains { id in byID[id].map { agent in selectors.allSatisfy { $0.matches(agent.labels) } } ?? false }
    }

    public func nextAgent(after id: String?, matchingAll selectors: [LabelSelector], where accept: (AgentInfo) -> Bool) -> AgentInfo? {
        // Walks the candidates in place from the last choice, without copying the fleet: with
        // free agents about, the walk ends after a step or two.
        let ids = candidates(selectors)
        guard !ids.isEmpty else { return nil }
        var start = id.map { Self.insertionPoint(of: $0, in: ids) } ?? 0
        if let id, start < ids.count, ids[start] == id { start += 1 }
        for offset in 0..<ids.count {
            guard let agent = byID[ids[(start + offset) % ids.count]] else { continue }
            if selectors.allSatisfy({ $0.matches(agent.labels) }), accept(agent) { return agent }
        }
        return nil
    }

    /// The ids worth checking, sorted: those of the narrowest positive requirement, or all. Every
    /// caller still matches each candidate against the selectors, so when the narrowest set holds
    /// most of the fleet, the sorted list of all ids serves (nothing is copied or sorted).
    private func candidates(_ selectors: [LabelSelector]) -> [String] {
        var narrowest: (requirement: Requirement, count: Int)?
        for requirement in selectors.lazy.flatMap(\.requirements) {
            let count: Int
            switch requirement.op {
            case .equals, .doubleEquals, .in:
                count = requirement.values.reduce(0) { $0 + (byLabel[requirement.key]?[$1]?.count ?? 0) }
            case .exists:
                count = byKey[requirement.key]?.count ?? 0
            case .notEquals, .notIn, .doesNotExist:
                continue
            }
            if narrowest == nil || count < narrowest!.count { narrowest = (requirement, count) }
            if count == 0 { return [] }
        }
        guard let narrowest, narrowest.count * 4 < sortedIDs.count else { return sortedIDs }
        let requirement = narrowest.requirement
        if requirement.op == .exists { return (byKey[requirement.key] ?? []).sorted() }
        return requirement.values.reduce(into: Set<String>()) { $0.formUnion(byLabel[requirement.key]?[$1] ?? []) }.sorted()
    }

    static func insertionPoint(of id: String, in sorted: [String]) -> Int {
        var low = 0
        var high = sorted.count
        while low < high {
            let middle = (low + high) / 2
            if sorted[middle] < id { low = middle + 1 } else { high = middle }
        }
        return low
    }
}
