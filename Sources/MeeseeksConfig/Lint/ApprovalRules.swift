/// Four-eyes approval: every role it names exists, and whoever may request the command leaves
/// enough other people who may approve it (a requester never approves their own job).
enum ApprovalRules {
    static func check(commands: [CommandSpec], policy: PolicySet, agentOwned: Bool) -> [Diagnostic] {
        var diagnostics: [Diagnostic] = []
        for command in commands {
            guard let approval = command.approval else { continue }
            if agentOwned {
                diagnostics.append(
                    .error(
                        "approval-on-agent", at: approval.position,
                        "'\(command.name)': approval is decided by the box, so an agent's own command cannot ask for it; declare the command in the box's commands.d"
                    ))
                continue
            }
            // A command file linted alone (no policies loaded) cannot be judged.
            guard !policy.roles.isEmpty else { continue }
            diagnostics += problems(command, approval, policy: policy)
        }
        return diagnostics
    }

    private static func problems(_ command: CommandSpec, _ approval: ApprovalSpec, policy: PolicySet) -> [Diagnostic] {
        var diagnostics: [Diagnostic] = []
        let roleNames = Array(policy.roles.keys)
        for role in approval.roles where policy.roles[role] == nil {
            let hint = Suggestion.nearest(to: role, among: roleNames).map { "; did you mean '\($0)'?" } ?? ""
            diagnostics.append(
                .error("unknown-role", at: approval.position, "'\(command.name)': approval names unknown role '\(role)'\(hint)"))
        }
        // An unknown role is the finding; counting its members would only repeat it.
        guard diagnostics.isEmpty else { return diagnostics }
        let approvers = Set(approval.roles.flatMap { policy.roles[$0]?.members ?? [] })
        let requesters = Set(
            policy.grants.filter { $0.covers(command.name) }.flatMap { grant in grant.roles.flatMap { policy.roles[$0]?.members ?? [] } })
        let needed = approval.count == 1 ? "an approver" : "\(approval.count) different approvers"
        if approvers.count < approval.count {
            diagnostics.append(
                .error(
                    "approval-impossible", at: approval.position,
                    "'\(command.name)' needs \(needed) from \(approval.roles.joined(separator: ", ")), which hold \(approvers.count) \(approvers.count == 1 ? "person" : "people")"
                ))
        } else if let stuck = requesters.sorted(by: { $0.description < $1.description }).first(where: {
            approvers.subtracting([$0]).count < approval.count
        }) {
            diagnostics.append(
                .error(
                    "approval-impossible", at: approval.position,
                    "'\(command.name)' needs \(needed) other than its requester, but a request by \(stuck) leaves only \(approvers.subtracting([stuck]).count) in \(approval.roles.joined(separator: ", "))"
                ))
        }
        return diagnostics
    }
}
