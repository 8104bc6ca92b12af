public import MeeseeksConfig
public import MeeseeksLabels

/// Decides who may run what where. Default deny: a request is allowed only when a grant of one of
/// the user's roles covers the command and some agent passes every filter.
///
/// ```swift
/// let engine = PolicyEngine(policy: config.policy)
/// switch engine.authorize(user: "U01SRE0001", command: restart, agents: fleet) {
/// case .allowed(let targets, _): ...
/// case .refused(let refusal): print(refusal)   // says why
/// }
/// ```
public struct PolicyEngine: Sendable {
    public let policy: PolicySet
    /// `@handle` members resolved to user IDs (handle without `@` → user ID).
    public let resolvedHandles: [String: String]
    /// Identities that hold the admin role without being listed (the API's bootstrap token).
    public let implicitAdmins: Set<String>

    public init(policy: PolicySet, resolvedHandles: [String: String] = [:], implicitAdmins: Set<String> = []) {
        self.policy = policy
        self.resolvedHandles = resolvedHandles
        self.implicitAdmins = implicitAdmins
    }

    /// The roles `user` belongs to, sorted.
    public func roles(of user: String) -> [String] {
        if implicitAdmins.contains(user) { return [PolicySet.adminRole] }
        return policy.roles.values.filter { role in
            role.members.contains { member in
                switch member {
                case .user(let id): id == user
                case .handle(let name): resolvedHandles[name] == user
                }
            }
        }.map(\.name).sorted()
    }

    public func isAdmin(_ user: String) -> Bool {
        roles(of: user).contains(PolicySet.adminRole)
    }

    /// The grants that let `user` run `command`, in file order.
    public func grants(for user: String, command: String) -> [Grant] {
        let mine = Set(roles(of: user))
        return policy.grants.filter { grant in grant.covers(command) && grant.roles.contains { mine.contains($0) } }
    }

    /// Whether any grant lets `user` run `command` somewhere, ignoring agents: what menus show.
    public func mayRequest(user: String, command: String) -> Bool {
        !grants(for: user, command: command).isEmpty
    }

    /// The decision for one request.
    ///
    /// - Parameters:
    ///   - requestSelector: the `-l` selector the user typed, if any.
    ///   - channel: where the request was made, checked against the command's `channels`.
    ///   - targetLimit: name at most this many targets (the first by id). A `mode: one` request
    ///     needs one agent and a few names to show, not the whole fleet: with a limit the search
    ///     stops early, so a request costs the same with ten thousand agents as with ten.
    public func authorize(
        user: String, command: CommandSpec, requestSelector: LabelSelector = .everything, channel: String? = nil,
        agents fleet: some AgentFleet, targetLimit: Int = .max
    ) -> PolicyDecision {
        let targetLimit = max(1, targetLimit)  // a decision that allows names at least one target
        let userRoles = roles(of: user)
        guard !userRoles.isEmpty else { return .refused(.noRole(user: user)) }
        let grants = grants(for: user, command: command.name)
        guard !grants.isEmpty else { return .refused(.noGrant(command: command.name, roles: userRoles)) }
        // A restricted command asked for outside any channel (the API, a terminal) is not in an
        // allowed channel either.
        if let channels = command.channels, !(channel.map(channels.contains) ?? false) {
            return .refused(.wrongChannel(command: command.name, allowed: channels))
        }
        // Each filter narrows the last: the grants' `on`, the command's target, the user's `-l`,
        // the agents' catalogs. The first that leaves nobody names the refusal.
        guard grants.contains(where: { fleet.hasAgent(matchingAll: [$0.on]) }) else {
            return .refused(.noAgentMatchesGrants(command: command.name, selectors: grants.map(\.on)))
        }
        guard grants.contains(where: { fleet.hasAgent(matchingAll: [$0.on, command.selector]) }) else {
            return .refused(.noAgentMatchesCommand(command: command.name, selector: command.selector))
        }
        // The first `targetLimit` of each grant, then the first of their union: the union's first.
        var serving: [String: AgentInfo] = [:]
        for grant in grants {
            for agent in fleet.agents(
                matchingAll: [grant.on, command.selector, requestSelector], limit: targetLimit, where: { $0.serves(command) })
            {
                serving[agent.id] = agent
            }
        }
        guard serving.isEmpty else {
            return .allowed(targets: Array(serving.values.sorted { $0.id < $1.id }.prefix(targetLimit)), grants: grants)
        }
        // Nobody serves it: which filter left nobody (these searches run only on a refusal).
        let selectors = grants.map { [$0.on, command.selector, requestSelector] }
        guard selectors.contains(where: { fleet.hasAgent(matchingAll: $0) }) else {
            return .refused(.noAgentMatchesRequest(selector: requestSelector))
        }
        guard selectors.contains(where: { fleet.hasAgent(matchingAll: $0, where: { $0.accepts(command) }) }) else {
            return .refused(.noAgentAcceptsCommand(command: command.name))
        }
        // Said before anyone is asked for a code: no target could check it.
        return .refused(.noAgentVerifiesTwoFactor(command: command.name))
    }

    /// Whether `user` may run `command` on this very agent: the check repeated at dispatch.
    public func permits(user: String, command: CommandSpec, on agent: AgentInfo) -> Bool {
        grants(for: user, command: command.name).contains { $0.on.matches(agent.labels) }
            && command.selector.matches(agent.labels) && agent.serves(command)
    }
}

/// The outcome of `PolicyEngine.authorize`.
public enum PolicyDecision: Hashable, Sendable {
    case allowed(targets: [AgentInfo], grants: [Grant])
    case refused(Refusal)
}

/// Why a request was refused, in words a user can act on.
public enum Refusal: Hashable, Sendable, CustomStringConvertible {
    case unknownCommand(String)
    case noRole(user: String)
    case noGrant(command: String, roles: [String])
    case wrongChannel(command: String, allowed: [String])
    case noAgentMatchesGrants(command: String, selectors: [LabelSelector])
    case noAgentMatchesCommand(command: String, selector: LabelSelector)
    case noAgentMatchesRequest(selector: LabelSelector)
    case noAgentAcceptsCommand(command: String)
    case notAdmin(String)
    /// A stored target selector that no longer parses: refused, never widened to every agent.
    case invalidSelector(String)
    /// A two-factor command, and none of the agents that would run it holds 2FA secrets.
    case noAgentVerifiesTwoFactor(command: String)

    /// Every `reason`, and the other reasons the box audits: the closed set metrics may use as
    /// label values (anything else is counted as `other`).
    public static let reasonCodes: Set<String> = [
        "unknown_command", "no_role", "no_grant", "wrong_channel", "no_agent_matches_grant", "no_agent_matches_command",
        "no_agent_matches_request", "no_agent_accepts_command", "not_admin", "invalid_selector", "invalid_argument",
        "no_agent_verifies_two_factor",
    ]

    /// A stable reason for metrics and the audit log.
    public var reason: String {
        switch self {
        case .unknownCommand: "unknown_command"
        case .noRole: "no_role"
        case .noGrant: "no_grant"
        case .wrongChannel: "wrong_channel"
        case .noAgentMatchesGrants: "no_agent_matches_grant"
        case .noAgentMatchesCommand: "no_agent_matches_command"
        case .noAgentMatchesRequest: "no_agent_matches_request"
        case .noAgentAcceptsCommand: "no_agent_accepts_command"
        case .notAdmin: "not_admin"
        case .invalidSelector: "invalid_selector"
        case .noAgentVerifiesTwoFactor: "no_agent_verifies_two_factor"
        }
    }

    public var description: String {
        switch self {
        case .unknownCommand(let name):
            "there is no command '\(name)'; say 'help' to see what you can run"
        case .noRole(let user):
            "\(user) has no role in the policy, so may run nothing (default deny)"
        case .noGrant(let command, let roles):
            "no grant lets your roles (\(roles.joined(separator: ", "))) run '\(command)'"
        case .wrongChannel(let command, let allowed) where allowed.isEmpty:
            "'\(command)' may not be requested in any channel (its 'channels' list is empty)"
        case .wrongChannel(let command, let allowed):
            "'\(command)' may only be requested in \(allowed.joined(separator: ", "))"
        case .noAgentMatchesGrants(let command, let selectors) where selectors.contains(where: \.isEverything):
            "no agent is connected that could run '\(command)'; try again when one is"
        case .noAgentMatchesGrants(let command, let selectors):
            "you may run '\(command)' only on agents matching \(selectors.map { "'\($0.displayText)'" }.joined(separator: " or ")), and no connected agent does"
        case .noAgentMatchesCommand(let command, let selector):
            "no agent you may use matches the target of '\(command)' ('\(selector.displayText)')"
        case .noAgentMatchesRequest(let selector):
            "no agent you may use matches '\(selector.displayText)'"
        case .noAgentAcceptsCommand(let command):
            "no matching agent accepts '\(command)' (see its --commands)"
        case .notAdmin(let what):
            "'\(what)' is for the admin role only"
        case .invalidSelector(let text):
            "the selector '\(text)' cannot be read, so no agent is chosen"
        case .noAgentVerifiesTwoFactor(let command):
            "'\(command)' needs a 2FA code, and no agent that would run it can check one (it holds no 2FA secrets)"
        }
    }
}

extension LabelSelector {
    /// How a selector reads in a message: `everything` for the empty one.
    public var displayText: String { isEverything ? "everything" : description }
}
