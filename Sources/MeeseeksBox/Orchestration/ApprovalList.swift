import MeeseeksAPI
import MeeseeksConfig
import MeeseeksCore

/// Jobs awaiting approval, read from the store: what waits for whom, and who is asked. Any box
/// can answer these (a standby too); only the leader changes a job.
enum ApprovalList {
    /// Jobs awaiting approval, oldest first, a page at a time (no made-up cap on how many wait).
    static func awaiting(in store: any JobHistoryStore, _ visit: (Job) throws -> Void) throws {
        var after: Int64 = 0
        let page = 200
        while true {
            let jobs = try store.jobs(
                JobQuery(statuses: [.awaitingApproval], topLevelOnly: true, limit: page, afterID: after, oldestFirst: true))
            for job in jobs { try visit(job) }
            guard jobs.count == page, let last = jobs.last else { return }
            after = last.id
        }
    }

    /// The jobs `user` may approve or deny now: not their own, not decided by them yet, not
    /// expired, and needing a role they hold.
    static func pending(
        for user: String, store: any JobHistoryStore & ApprovalStore, snapshot: ConfigHolder.Snapshot, now: Double
    ) throws -> [API.Approval] {
        let roles = snapshot.engine.roles(of: user)
        var items: [API.Approval] = []
        try awaiting(in: store) { job in
            guard let approval = snapshot.configuration.command(named: job.command)?.approval else { return }
            let decisions = try store.decisions(on: job.id)
            let refusal = ApprovalRules.refusal(
                job: job, approval: approval, approver: user, roles: roles, decisions: decisions, approving: true, reason: nil, now: now)
            if refusal == nil { items.append(item(job, approval, decisions)) }
        }
        return items
    }

    static func item(_ job: Job, _ approval: ApprovalSpec, _ decisions: [ApprovalDecision]) -> API.Approval {
        API.Approval(job: job, need: need(approval), decisions: decisions, expiresAt: ApprovalRules.deadline(of: job, approval))
    }

    static func need(_ approval: ApprovalSpec) -> DialogView.ApprovalNeed {
        DialogView.ApprovalNeed(roles: approval.roles, count: approval.count, timeout: approval.timeout)
    }

    /// Where a job's approval request is shown: the command's approval channel, or else each
    /// person who may approve it (their direct messages), the requester aside; at most 50.
    static func places(of job: Job, _ approval: ApprovalSpec, engine: PolicyEngine, policy: PolicySet) -> [String] {
        if let channel = approval.channel { return [channel] }
        var people: [String] = []
        for role in approval.roles {
            for member in policy.roles[role]?.members ?? [] {
                let id: String? =
                    switch member {
                    case .user(let id): id
                    case .handle(let name): engine.resolvedHandles[name]
                    }
                if let id, id != job.requester, !people.contains(id) { people.append(id) }
            }
        }
        return Array(people.prefix(50))
    }
}
