public import MeeseeksConfig
import MeeseeksLabels

/// What a user may run where, and why not, in words: `meeseeks policy explain`.
public struct PolicyExplanation: Sendable {
    public let configuration: Configuration
    public let user: String
    private let engine: PolicyEngine

    public init(configuration: Configuration, user: String, resolvedHandles: [String: String] = [:]) {
        self.configuration = configuration
        self.user = user
        self.engine = PolicyEngine(policy: configuration.policy, resolvedHandles: resolvedHandles)
    }

    /// One line per command, allowed first.
    public func summary() -> String {
        let roles = engine.roles(of: user)
        var lines = [
            roles.isEmpty
                ? "\(user) has no role: every command is refused (default deny)."
                : "\(user) has the role\(roles.count == 1 ? "" : "s") \(roles.joined(separator: ", "))\(engine.isAdmin(user) ? " (may use the admin built-ins)" : "")."
        ]
        for command in configuration.commands.sorted(by: { $0.name < $1.name }) {
            lines.append(explain(command: command.name))
        }
        return lines.joined(separator: "\n")
    }

    /// Whether the user may run `command`, and on which agents.
    public func explain(command name: String) -> String {
        guard let command = configuration.command(named: name) else {
            return "✗ \(name): \(Refusal.unknownCommand(name))"
        }
        let roles = engine.roles(of: user)
        guard !roles.isEmpty else { return "✗ \(name): \(Refusal.noRole(user: user))" }
        let grants = engine.grants(for: user, command: name)
        guard !grants.isEmpty else { return "✗ \(name): \(Refusal.noGrant(command: name, roles: roles))" }
        let places = grants.map { grant in
            let scope = grant.on.and(command.selector)
            return "agents matching '\(scope.displayText)' (grant at \(grant.position))"
        }
        var text = "✓ \(name): on \(places.joined(separator: ", or on "))"
        if let channels = command.channels { text += "; only in \(channels.joined(separator: ", "))" }
        if command.twoFactor { text += "; needs a 2FA code" }
        return text
    }
}
