/// Rules that look across files: duplicate names, grants and roles, commands nobody can run.
enum ConfigurationRules {
    static func check(commands: [CommandSpec], policy: PolicySet, reachability: Bool) -> [Diagnostic] {
        var diagnostics = duplicateCommands(commands)
        for grant in policy.grants {
            diagnostics += grantProblems(grant, commands: commands, policy: policy)
        }
        if reachability {
            diagnostics += unreachableCommands(commands, policy: policy)
        }
        return diagnostics
    }

    static func duplicateCommands(_ commands: [CommandSpec]) -> [Diagnostic] {
        var diagnostics: [Diagnostic] = []
        var seen: [String: SourcePosition] = [:]
        for command in commands {
            if let first = seen[command.name] {
                diagnostics.append(
                    .error("duplicate-command", at: command.position, "command '\(command.name)' is already defined at \(first)"))
            } else {
                seen[command.name] = command.position
            }
        }
        return diagnostics
    }

    static func grantProblems(_ grant: Grant, commands: [CommandSpec], policy: PolicySet) -> [Diagnostic] {
        var diagnostics: [Diagnostic] = []
        let roleNames = Array(policy.roles.keys)
        for index in grant.roles.indices {
            let role = grant.roles[index]
            if policy.roles[role] != nil { continue }
            let hint = Suggestion.nearest(to: role, among: roleNames).map { "; did you mean '\($0)'?" } ?? ""
            diagnostics.append(.error("unknown-role", at: grant.rolePositions[index], "grant names unknown role '\(role)'\(hint)"))
        }
        for index in grant.commands.indices {
            let glob = grant.commands[index]
            let matched = commands.contains { Glob.matches(glob, $0.name) }
            if !matched {
                diagnostics.append(.warning("unmatched-glob", at: grant.commandPositions[index], "'\(glob)' matches no command"))
            }
        }
        return diagnostics
    }

    static func unreachableCommands(_ commands: [CommandSpec], policy: PolicySet) -> [Diagnostic] {
        var diagnostics: [Diagnostic] = []
        var reported: Set<String> = []
        for command in commands.sorted(by: { $0.position < $1.position }) {
            guard reported.insert(command.name).inserted else { continue }
            if !isRunnable(command.name, policy: policy) {
                diagnostics.append(
                    .warning(
                        "unreachable-command", at: command.position,
                        "no grant lets any role member run '\(command.name)'; add it to a grant in policies.d"))
            }
        }
        return diagnostics
    }

    static func isRunnable(_ name: String, policy: PolicySet) -> Bool {
        for grant in policy.grants where grant.covers(name) {
            for role in grant.roles {
                if let members = policy.roles[role]?.members, !members.isEmpty { return true }
            }
        }
        return false
    }
}
