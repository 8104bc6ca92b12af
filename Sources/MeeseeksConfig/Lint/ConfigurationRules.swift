/// Rules that look across files: duplicate names, grants and roles, commands nobody can run.
enum ConfigurationRules {
    static func check(commands: [CommandSpec], policy: PolicySet, reachability: Bool) -> [Diagnostic] {
        var diagnostics: [Diagnostic] = []
        var seen: [String: CommandSpec] = [:]
        for command in commands {
            if let first = seen[command.name] {
                diagnostics.append(
                    .error("duplicate-command", at: command.position,
                        "command '\(command.name)' is already defined at \(first.position)"))
            } else {
                seen[command.name] = command
            }
        }
        for grant in policy.grants {
            for (role, position) in zip(grant.roles, grant.rolePositions) where policy.roles[role] == nil {
                let hint = Suggestion.nearest(to: role, among: Array(policy.roles.keys)).map { "; did you mean '\($0)'?" } ?? ""
                diagnostics.append(.error("unknown-role", at: position, "grant names unknown role '\(role)'\(hint)"))
            }
            for (glob, position) in zip(grant.commands, grant.commandPositions)
            where !commands.contains(where: { Glob.matches(glob, $0.name) }) {
                diagnostics.append(.warning("unmatched-glob", at: position, "'\(glob)' matches no command"))
            }
        }
        if reachability {
            for command in seen.values.sorted(by: { $0.position < $1.position }) {
                let runnable = policy.grants.contains { grant in
                    grant.covers(command.name)
                        && grant.roles.contains { policy.roles[$0].map { !$0.members.isEmpty } ?? false }
                }
                if !runnable {
                    diagnostics.append(
                        .warning("unreachable-command", at: command.position,
                            "no grant lets any role member run '\(command.name)'; add it to a grant in policies.d"))
                }
            }
        }
        return diagnostics
    }
}
