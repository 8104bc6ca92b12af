public import MeeseeksLabels
public import MeeseeksConfig

/// What the policy engine and the router know of an agent: who it is, its labels, what it accepts.
public struct AgentInfo: Hashable, Sendable, Codable {
    public var id: String
    public var labels: LabelSet
    /// Globs of command names the agent accepts (its catalog); `*` accepts everything.
    public var commands: [String]

    public init(id: String, labels: LabelSet, commands: [String] = ["*"]) {
        self.id = id
        self.labels = labels
        self.commands = commands
    }

    public func accepts(_ command: String) -> Bool {
        commands.contains { Glob.matches($0, command) }
    }
}
