/// Everything the box runs on: commands, policy and settings, loaded and checked as one unit so a
/// reload swaps all of it or none.
public struct Configuration: Sendable {
    public var commands: [CommandSpec]
    public var policy: PolicySet
    public var settings: BoxSettings
    /// A hash of every file's content, to tell operators which configuration is live.
    public var fingerprint: String
    /// The files read, in order.
    public var files: [String]

    private var index: [String: Int]

    public init(
        commands: [CommandSpec], policy: PolicySet = PolicySet(), settings: BoxSettings = BoxSettings(),
        fingerprint: String = "", files: [String] = []
    ) {
        self.commands = commands
        self.policy = policy
        self.settings = settings
        self.fingerprint = fingerprint
        self.files = files
        var index: [String: Int] = [:]
        for (i, command) in commands.enumerated() where index[command.name] == nil {
            index[command.name] = i
        }
        self.index = index
    }

    public func command(named name: String) -> CommandSpec? {
        index[name].map { commands[$0] }
    }
}
