public import MeeseeksConfig

/// The commands agents define themselves, as the box takes them. For each name the first
/// definition offered (by the agent that has offered it longest among those still here) is the
/// accepted one; agents offering the same name with another definition are in conflict and get
/// none of its jobs. A name no agent offers any more leaves the catalog.
///
/// Costs stay flat with the fleet: an agent's offer or departure touches only its own names,
/// and the holders of a name are all visited only when its accepted definition changes.
public struct CommandCatalog: Sendable {
    struct Offered: Sendable {
        var spec: CommandSpec
        var digest: String
        /// When this agent first offered this very definition: earlier offers win a name.
        var since: UInt64

        func same(as other: Offered) -> Bool { digest == other.digest && spec == other.spec }
    }

    /// Name → agent → its definition.
    private var offers: [String: [String: Offered]] = [:]
    /// Agent → the names it offers.
    private var names: [String: Set<String>] = [:]
    /// Name → the accepted definition, and how many agents offer exactly it.
    private var accepted: [String: (offered: Offered, holders: Int)] = [:]
    /// Names no agent offers any more, with their last definition: jobs already queued wait for
    /// an agent to bring them back, and new requests hear that no agent runs them.
    private var retired: [String: CommandSpec] = [:]
    static let retiredLimit = 1000
    private var clock: UInt64 = 0
    /// Changes whenever the set of accepted definitions does: the menus must be rebuilt.
    public private(set) var generation: UInt64 = 0

    public init() {}

    /// The accepted definitions, by name.
    public var commands: [CommandSpec] { accepted.keys.sorted().compactMap { accepted[$0]?.offered.spec } }

    /// Commands that were offered and no longer are (at most a thousand are remembered).
    public var retiredCommands: [CommandSpec] { retired.keys.sorted().compactMap { retired[$0] } }

    /// Every name `agent` defines, accepted or not: it never takes a box command of that name.
    public func defines(_ agent: String) -> Set<String> { names[agent] ?? [] }

    /// The names whose accepted definition is `agent`'s: it runs those.
    public func owns(_ agent: String) -> Set<String> {
        defines(agent).filter { name in
            guard let mine = offers[name]?[agent], let chosen = accepted[name]?.offered else { return false }
            return mine.same(as: chosen)
        }
    }

    /// The names `agent` defines differently from the accepted definition.
    public func conflicts(_ agent: String) -> [String] {
        defines(agent).subtracting(owns(agent)).sorted()
    }

    /// Replaces what `agent` offers. Returns the agents whose owned names changed (their place
    /// in the fleet index must be refreshed), `agent` itself always included.
    public mutating func offer(_ agent: String, definitions: [CommandSpec], digests: [String: String]) -> Set<String> {
        var touched: Set<String> = [agent]
        let new = Set(definitions.map(\.name))
        for name in defines(agent).subtracting(new) { touched.formUnion(withdraw(agent, from: name)) }
        for spec in definitions {
            let digest = digests[spec.name] ?? ""
            if let previous = offers[spec.name]?[agent], previous.digest == digest, previous.spec == spec { continue }
            touched.formUnion(withdraw(agent, from: spec.name))
            clock &+= 1
            let offered = Offered(spec: spec, digest: digest, since: clock)
            offers[spec.name, default: [:]][agent] = offered
            if let chosen = accepted[spec.name] {
                if offered.same(as: chosen.offered) { accepted[spec.name]?.holders += 1 }
            } else {
                accepted[spec.name] = (offered, 1)
                retired[spec.name] = nil
                generation &+= 1
            }
        }
        names[agent] = new.isEmpty ? nil : new
        return touched
    }

    /// `agent` is gone: its names go with it (or pass to the next definition offered).
    public mutating func remove(_ agent: String) -> Set<String> {
        var touched: Set<String> = []
        for name in defines(agent) { touched.formUnion(withdraw(agent, from: name)) }
        names[agent] = nil
        return touched
    }

    /// Takes `agent`'s definition of `name` out; when it was the last of the accepted kind, the
    /// longest-standing other definition is accepted and all holders of the name are touched.
    private mutating func withdraw(_ agent: String, from name: String) -> Set<String> {
        guard let mine = offers[name]?.removeValue(forKey: agent), let chosen = accepted[name] else { return [] }
        if offers[name]?.isEmpty == true { offers[name] = nil }
        guard mine.same(as: chosen.offered) else { return [] }
        if chosen.holders > 1 {
            accepted[name]?.holders -= 1
            return []
        }
        generation &+= 1
        guard let remaining = offers[name], let next = remaining.values.min(by: { $0.since < $1.since }) else {
            accepted[name] = nil
            if retired.count >= Self.retiredLimit, let any = retired.keys.first { retired[any] = nil }
            retired[name] = mine.spec
            return []
        }
        accepted[name] = (next, remaining.values.filter { $0.same(as: next) }.count)
        return Set(remaining.keys)
    }
}
