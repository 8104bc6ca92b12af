public import MeeseeksConfig

/// One person's decision on a job awaiting approval.
public struct ApprovalDecision: Hashable, Sendable, Codable {
    public var jobID: Int64
    public var approver: String
    public var approved: Bool
    /// Why it was denied (required to deny).
    public var reason: String?
    /// Seconds since 1970.
    public var at: Double

    public init(jobID: Int64, approver: String, approved: Bool, reason: String? = nil, at: Double) {
        self.jobID = jobID
        self.approver = approver
        self.approved = approved
        self.reason = reason
        self.at = at
    }
}

/// Why an approval or denial is refused: one plain sentence, and a stable code for the audit.
public struct ApprovalRefusal: Error, Hashable, Sendable, CustomStringConvertible {
    public var code: String
    public var description: String

    public init(_ code: String, _ description: String) {
        self.code = code
        self.description = description
    }
}

/// The four-eyes rules, pure: who may decide on a job awaiting approval, and what the decisions
/// so far add up to. The approver's roles are those held at the moment of deciding.
public enum ApprovalRules {
    /// Longest reason kept with a denial.
    public static let maxReason = 500

    /// When a job waiting for `spec`'s approval expires.
    public static func deadline(of job: Job, _ approval: ApprovalSpec) -> Double {
        job.createdAt + Double(approval.timeout)
    }

    /// Why `approver` may not decide on `job` now, or nil.
    public static func refusal(
        job: Job, approval: ApprovalSpec?, approver: String, roles: [String], decisions: [ApprovalDecision], approving: Bool,
        reason: String?, now: Double
    ) -> ApprovalRefusal? {
        // Someone who could never decide on it learns nothing more about the job.
        if let approval, job.requester != approver, !approval.roles.contains(where: roles.contains) {
            return ApprovalRefusal(
                "no_role", "Deciding on job #\(job.id) needs the role \(approval.roles.joined(separator: " or ")), which you do not hold.")
        }
        guard job.status == .awaitingApproval else {
            return job.status.isFinal
                ? ApprovalRefusal("job_ended", "Job #\(job.id) has already ended (\(job.status.rawValue)); there is nothing to decide.")
                : ApprovalRefusal("already_approved", "Job #\(job.id) is already approved (\(job.status.rawValue)).")
        }
        guard let approval else {
            return ApprovalRefusal("no_approval", "The command '\(job.command)' no longer asks for approval; job #\(job.id) will expire.")
        }
        if case .approved = outcome(decisions, approval) {
            return ApprovalRefusal("already_approved", "Job #\(job.id) is already approved; it waits for its requester's 2FA code.")
        }
        if now >= deadline(of: job, approval) {
            return ApprovalRefusal("expired", "Job #\(job.id) waited too long for approval and has expired.")
        }
        if job.requester == approver {
            return ApprovalRefusal("own_request", "You requested job #\(job.id); someone else must approve or deny it.")
        }
        if let earlier = decisions.first(where: { $0.approver == approver }) {
            return ApprovalRefusal("already_decided", "You already \(earlier.approved ? "approved" : "denied") job #\(job.id).")
        }
        if !approving, (reason ?? "").trimmingSpaces.isEmpty {
            return ApprovalRefusal("reason_required", "A denial needs a reason, for the requester.")
        }
        if let reason, reason.count > maxReason {
            return ApprovalRefusal("reason_too_long", "A reason is at most \(maxReason) characters.")
        }
        return nil
    }

    /// What the decisions so far mean: denied at the first denial, approved once `count`
    /// different people approved, otherwise how many approvals are still missing.
    public static func outcome(_ decisions: [ApprovalDecision], _ approval: ApprovalSpec) -> ApprovalOutcome {
        if let denial = decisions.first(where: { !$0.approved }) { return .denied(by: denial.approver, reason: denial.reason ?? "") }
        let approvers = Set(decisions.filter(\.approved).map(\.approver))
        return approvers.count >= approval.count ? .approved : .waiting(missing: approval.count - approvers.count)
    }
}

extension ApprovalRules {
    /// What an approver is told once their decision is recorded, by how the job then stands.
    public static func afterDecision(_ job: Job, approved: Bool, missing: Int) -> String {
        let name = "job #\(job.id) (\(job.command))"
        guard approved else { return "You denied \(name); its requester is told why." }
        switch job.status {
        case .awaitingApproval where missing > 0:
            return "You approved \(name); it needs \(missing) more approval\(missing == 1 ? "" : "s")."
        case .awaitingApproval:
            return "You approved \(name); it runs once its requester gives their 2FA code."
        case .queued, .running, .succeeded:
            return "You approved \(name); it is \(job.status.rawValue) now."
        default:
            return "You approved \(name); it has ended (\(job.status.rawValue))."
        }
    }
}

public enum ApprovalOutcome: Hashable, Sendable {
    case waiting(missing: Int)
    case approved
    case denied(by: String, reason: String)
}
