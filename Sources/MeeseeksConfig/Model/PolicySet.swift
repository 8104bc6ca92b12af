public import MeeseeksLabels

/// Roles and grants from `policies.d/`. Default deny: what no grant allows is refused.
public struct PolicySet: Hashable, Sendable {
    public var roles: [String: Role]
    public var grants: [Grant]

    public init(roles: [String: Role] = [:], grants: [Grant] = []) {
        self.roles = roles
        self.grants = grants
    }

    /// The role that may also run the administrative built-ins.
    public static let adminRole = "admin"
}

/// A named set of people.
public struct Role: Hashable, Sendable {
    public var name: String
    public var members: [Member]
    public var position: SourcePosition

    public init(name: String, members: [Member], position: SourcePosition = .file("<memory>")) {
        self.name = name
        self.members = members
        self.position = position
    }
}

/// A role member: a Slack user ID, or an `@handle` resolved through Slack when the box loads.
public enum Member: Hashable, Sendable, CustomStringConvertible {
    case user(String)
    case handle(String)

    public init(_ text: String) {
        self = text.hasPrefix("@") ? .handle(String(text.dropFirst())) : .user(text)
    }

    public var description: String {
        switch self {
        case .user(let id): id
        case .handle(let name): "@\(name)"
        }
    }
}

/// Lets the people of `roles` run `commands` (globs) on agents matching `on`.
public struct Grant: Hashable, Sendable {
    public var roles: [String]
    public var commands: [String]
    public var on: LabelSelector
    public var position: SourcePosition
    /// Where each role and command glob was written, parallel to `roles` and `commands`.
    public var rolePositions: [SourcePosition]
    public var commandPositions: [SourcePosition]

    public init(
        roles: [String], commands: [String], on: LabelSelector = .everything,
        position: SourcePosition = .file("<memory>"), rolePositions: [SourcePosition]? = nil,
        commandPositions: [SourcePosition]? = nil
    ) {
        self.roles = roles
        self.commands = commands
        self.on = on
        self.position = position
        self.rolePositions = rolePositions ?? roles.map { _ in position }
        self.commandPositions = commandPositions ?? commands.map { _ in position }
    }

    /// True when one of the command globs matches `command`.
    public func covers(_ command: String) -> Bool {
        commands.contains { Glob.matches($0, command) }
    }
}
