public import MeeseeksConfig
public import MeeseeksLabels

/// Who may run what where, for one fleet: `meeseeks policy explain --agents FILE [--json]`.
///
/// Every decision comes from `PolicyEngine.authorize`, the very call the box makes when a request
/// arrives, so the report can be checked against the rules as written (`Tests/policy`).
///
/// ```swift
/// let report = PolicyReport(
///     configuration: config, users: ["U01SRE0001"], commands: ["restart"], agents: fleet,
///     requestSelector: try LabelSelector("env=stg"), channel: "C01OPS")
/// report.decisions[0].allowed    // true: report.decisions[0].targets names the agents
/// ```
public struct PolicyReport: Hashable, Sendable, Codable {
    /// A user's roles, as the engine resolves them.
    public struct User: Hashable, Sendable, Codable {
        public var user: String
        public var roles: [String]
        /// Holds the `admin` role: may also use the administrative built-ins.
        public var admin: Bool
    }

    /// The engine's answer for one user requesting one command.
    public struct Decision: Hashable, Sendable, Codable {
        public var user: String
        public var command: String
        public var allowed: Bool
        /// The agents the request may go to, sorted by id; empty when refused.
        public var targets: [String]
        /// `Refusal.reason` when refused, such as `no_grant`.
        public var reason: String?
        /// The refusal as the user reads it.
        public var message: String?
    }

    /// The `-l` selector of the requests, normalised; empty for none.
    public var selector: String
    /// The channel the requests were made in; absent for none (a terminal, the API).
    public var channel: String?
    /// The fleet's agent ids, sorted.
    public var agents: [String]
    public var users: [User]
    /// One per user and command, users in the order given, commands in the order given.
    public var decisions: [Decision]

    /// Asks the engine about every pair of `users` and `commands`.
    ///
    /// - Parameters:
    ///   - commands: command names, each defined in `configuration`; unknown names are skipped.
    ///   - resolvedHandles: `@handle` members resolved to user IDs, as the box resolves them.
    public init(
        configuration: Configuration, users: [String], commands: [String], agents: [AgentInfo],
        requestSelector: LabelSelector = .everything, channel: String? = nil,
        resolvedHandles: [String: String] = [:]
    ) {
        let engine = PolicyEngine(policy: configuration.policy, resolvedHandles: resolvedHandles)
        selector = requestSelector.description
        self.channel = channel
        self.agents = agents.map(\.id).sorted()
        self.users = users.map { User(user: $0, roles: engine.roles(of: $0), admin: engine.isAdmin($0)) }
        let specs = commands.compactMap { configuration.command(named: $0) }
        decisions = users.flatMap { user in
            specs.map { command in
                switch engine.authorize(
                    user: user, command: command, requestSelector: requestSelector, channel: channel, agents: agents)
                {
                case .allowed(let targets, _):
                    Decision(
                        user: user, command: command.name, allowed: true, targets: targets.map(\.id).sorted(),
                        reason: nil, message: nil)
                case .refused(let refusal):
                    Decision(
                        user: user, command: command.name, allowed: false, targets: [], reason: refusal.reason,
                        message: refusal.description)
                }
            }
        }
    }

    /// One line per decision: `✓ USER COMMAND: on AGENT, AGENT` or `✗ USER COMMAND: why (reason)`.
    public var text: String {
        decisions.map { decision in
            decision.allowed
                ? "✓ \(decision.user) \(decision.command): on \(decision.targets.joined(separator: ", "))"
                : "✗ \(decision.user) \(decision.command): \(decision.message ?? "") (\(decision.reason ?? ""))"
        }.joined(separator: "\n")
    }
}
