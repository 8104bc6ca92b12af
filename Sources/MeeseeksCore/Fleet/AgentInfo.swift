public import MeeseeksConfig
public import MeeseeksLabels

/// What the policy engine and the router know of an agent: who it is, its labels, what it accepts.
public struct AgentInfo: Hashable, Sendable, Codable {
    public var id: String
    public var labels: LabelSet
    /// Globs of the box's command names the agent accepts (`--commands`); `*` accepts every one.
    public var commands: [String]
    /// The commands it defines itself whose definition the box accepted (same digest as the
    /// first agent that offered the name): it runs those, and only it and its like do.
    public var owns: Set<String>
    /// Every command it defines itself, accepted or not: it takes no box command of those names
    /// (it would refuse one: the name means its own command there).
    public var defines: Set<String>
    /// Whether it verifies 2FA codes (it holds a secrets file): two-factor commands go only there.
    public var verifiesTwoFactor: Bool

    public init(
        id: String, labels: LabelSet, commands: [String] = ["*"], owns: Set<String> = [], defines: Set<String> = [],
        verifiesTwoFactor: Bool = true
    ) {
        self.id = id
        self.labels = labels
        self.commands = commands
        self.owns = owns
        self.defines = defines.union(owns)
        self.verifiesTwoFactor = verifiesTwoFactor
    }

    /// Whether it would take a job of `command`: an agent-defined command only where its
    /// definition is the accepted one; a box command where the globs say so.
    public func accepts(_ command: CommandSpec) -> Bool {
        if case .onAgent = command.action { return owns.contains(command.name) }
        return !defines.contains(command.name) && commands.contains { Glob.matches($0, command.name) }
    }

    /// Whether it can run `command` at all: it accepts it, and verifies codes if one is needed.
    public func serves(_ command: CommandSpec) -> Bool {
        accepts(command) && (!command.twoFactor || verifiesTwoFactor)
    }
}
