public import MeeseeksLabels

/// One command, as declared in a file under `commands.d/`.
public struct CommandSpec: Hashable, Sendable {
    /// What runs: an argv template, or an inline script run by its shebang.
    public enum Action: Hashable, Sendable {
        case run([Template])
        case script(String)
        /// Defined by an agent (`mrmeeseeks --config`): it alone knows how it runs, and builds
        /// that from the argument values it is sent.
        case onAgent
    }

    /// Whether the user is asked "Are you sure?" before the job is queued.
    public enum Confirm: Hashable, Sendable {
        case never
        case always
        case template(Template)
    }

    public enum TargetMode: String, Hashable, Sendable, Codable, CaseIterable {
        /// A single matching agent, round robin among equals.
        case one
        /// Every matching agent: one sub-job each.
        case all
    }

    public var name: String
    public var summary: String
    public var description: String?
    public var action: Action
    public var arguments: [ArgumentSpec]
    public var confirm: Confirm
    public var twoFactor: Bool
    /// Seconds before the job's process group is terminated.
    public var timeout: Int
    public var selector: LabelSelector
    public var mode: TargetMode
    /// Jobs of this command running at once across the fleet; nil means no limit.
    public var concurrency: Int?
    /// Channels where the command may be requested; nil means anywhere.
    public var channels: [String]?
    /// Shown with Slack's `danger` style on the confirmation.
    public var destructive: Bool
    /// Other words that request this command (`rs` for `restart`).
    public var aliases: [String] = []
    /// Who must agree before a job runs; nil when nobody need.
    public var approval: ApprovalSpec?
    /// Where the command was declared: the file, and the position of its `name`.
    public var position: SourcePosition

    public init(
        name: String, summary: String, description: String? = nil, action: Action,
        arguments: [ArgumentSpec] = [], confirm: Confirm = .never, twoFactor: Bool = false,
        timeout: Int = CommandSpec.defaultTimeout, selector: LabelSelector = .everything,
        mode: TargetMode = .one, concurrency: Int? = nil, channels: [String]? = nil,
        destructive: Bool = false, position: SourcePosition = .file("<memory>")
    ) {
        self.name = name
        self.summary = summary
        self.description = description
        self.action = action
        self.arguments = arguments
        self.confirm = confirm
        self.twoFactor = twoFactor
        self.timeout = timeout
        self.selector = selector
        self.mode = mode
        self.concurrency = concurrency
        self.channels = channels
        self.destructive = destructive
        self.position = position
    }

    public static let defaultTimeout = 600

    public func argument(named name: String) -> ArgumentSpec? {
        arguments.first { $0.name == name }
    }
}

/// One argument of a command: how it is asked for and what values it accepts.
public struct ArgumentSpec: Hashable, Sendable {
    public enum Kind: String, Hashable, Sendable, Codable, CaseIterable {
        case text, choice, int, bool
    }

    public var name: String
    public var prompt: String
    public var kind: Kind
    public var choices: [String]
    /// A regular expression the whole value must match.
    public var pattern: String?
    public var min: Int?
    public var max: Int?
    public var required: Bool
    public var defaultValue: String?
    /// Masked in messages, logs and the database.
    public var secret: Bool

    public init(
        name: String, prompt: String? = nil, kind: Kind = .text, choices: [String] = [], pattern: String? = nil,
        min: Int? = nil, max: Int? = nil, required: Bool = true, defaultValue: String? = nil, secret: Bool = false
    ) {
        self.name = name
        self.prompt = prompt ?? "\(name)?"
        self.kind = kind
        self.choices = choices
        self.pattern = pattern
        self.min = min
        self.max = max
        self.required = required
        self.defaultValue = defaultValue
        self.secret = secret
    }

    /// Characters a value may not exceed, so every argument fits a Slack message.
    public static let maxValueLength = 2000
}
