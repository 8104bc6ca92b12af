public import MeeseeksConfig

/// An immutable snapshot of everything the interpreter may consult: configuration, policy, the
/// connected agents and the time. The interpreter never reads a clock or the network itself.
public struct World: Sendable {
    public var configuration: Configuration
    public var engine: PolicyEngine
    public var agents: [AgentInfo]
    /// Seconds since 1970.
    public var now: Double

    public init(configuration: Configuration, engine: PolicyEngine? = nil, agents: [AgentInfo], now: Double) {
        self.configuration = configuration
        self.engine = engine ?? PolicyEngine(policy: configuration.policy)
        self.agents = agents
        self.now = now
    }

    /// Commands this user may request, sorted by name: what the menu offers.
    public func commands(for user: String) -> [CommandSpec] {
        configuration.commands.filter { !configuration.unavailable.contains($0.name) && engine.mayRequest(user: user, command: $0.name) }
            .sorted { $0.name < $1.name }
    }
}
