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
    /// Commands known but offered by no agent right now (an agent's own command whose agents
    /// left): out of menus and `help`; a request for one hears that no agent runs it.
    public var unavailable: Set<String> = []

    private var index: [String: Int]
    private var aliasIndex: [String: AliasTarget] = [:]

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
        // The first definition of a word wins; lint reports every collision.
        for command in commands {
            for alias in command.aliases where aliasIndex[alias] == nil && index[alias] == nil {
                aliasIndex[alias] = .command(command.name)
            }
        }
        for (name, request) in settings.presets.sorted(by: { $0.key < $1.key }) where aliasIndex[name] == nil && index[name] == nil {
            aliasIndex[name] = .preset(request)
        }
    }

    /// What a word stands for when it is an alias rather than a command's name.
    public func alias(_ word: String) -> AliasTarget? {
        BuiltinWords.all.contains(word) ? nil : aliasIndex[word]
    }

    /// Every alias, by word.
    public var aliases: [String: AliasTarget] { aliasIndex }

    public func command(named name: String) -> CommandSpec? {
        index[name].map { commands[$0] }
    }
}

/// A word users may type instead of a command's name.
public enum AliasTarget: Hashable, Sendable {
    /// Another name for a command (`rs` for `restart`).
    case command(String)
    /// A typed request with some arguments fixed (`deploy-prod` for `deploy env=prd`).
    case preset(String)
}

/// The words the box answers itself (SPEC §5's built-ins): no command or alias may take them.
public enum BuiltinWords {
    public static let all: Set<String> = ["help", "jobs", "job", "last", "logs", "tail", "cancel", "agents", "audit", "kill"]
}
