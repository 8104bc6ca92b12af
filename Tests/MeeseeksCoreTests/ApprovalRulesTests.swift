import MeeseeksConfig
import MeeseeksCore
import Testing

@Suite("Four-eyes rules: who may decide, and what the decisions add up to")
struct ApprovalRulesTests {
    static let approval = ApprovalSpec(roles: ["lead"], count: 2, timeout: 600)
    static func waiting(status: JobStatus = .awaitingApproval) -> Job {
        Job(id: 7, command: "deploy", arguments: [:], requester: "U_REQ", status: status, createdAt: 1000)
    }

    static func refusal(
        _ job: Job = waiting(), approval: ApprovalSpec? = approval, approver: String = "U_LEAD", roles: [String] = ["lead"],
        decisions: [ApprovalDecision] = [], approving: Bool = true, reason: String? = nil, now: Double = 1100
    ) -> String? {
        ApprovalRules.refusal(
            job: job, approval: approval, approver: approver, roles: roles, decisions: decisions, approving: approving, reason: reason,
            now: now)?.code
    }

    @Test(
        "each refusal, in the order they are checked",
        arguments: [
            (refusal(waiting(status: .queued)), "already_approved"),
            (refusal(waiting(status: .denied)), "job_ended"),
            (refusal(approval: nil), "no_approval"),
            (refusal(now: 1600), "expired"),
            (refusal(approver: "U_REQ"), "own_request"),
            (refusal(approver: "U_REQ", roles: []), "own_request"),
            (refusal(roles: ["ops"]), "no_role"),
            (refusal(decisions: [ApprovalDecision(jobID: 7, approver: "U_LEAD", approved: true, at: 1050)]), "already_decided"),
            (refusal(approving: false, reason: "   "), "reason_required"),
            (refusal(approving: false, reason: String(repeating: "x", count: 501)), "reason_too_long"),
        ] as [(String?, String)])
    func refusals(_ found: String?, _ expected: String) {
        #expect(found == expected)
    }

    @Test("an approver with the role, in time, on a waiting job, is not refused")
    func allowed() {
        #expect(Self.refusal() == nil)
        #expect(Self.refusal(approving: false, reason: "not today") == nil)
        #expect(Self.refusal(now: 1599.9) == nil)
    }

    @Test("approved once enough different people approved; denied at the first denial")
    func outcomes() {
        let one = ApprovalDecision(jobID: 7, approver: "A", approved: true, at: 1)
        let two = ApprovalDecision(jobID: 7, approver: "B", approved: true, at: 2)
        let no = ApprovalDecision(jobID: 7, approver: "C", approved: false, reason: "risky", at: 3)
        #expect(ApprovalRules.outcome([], Self.approval) == .waiting(missing: 2))
        #expect(ApprovalRules.outcome([one], Self.approval) == .waiting(missing: 1))
        #expect(ApprovalRules.outcome([one, one], Self.approval) == .waiting(missing: 1))
        #expect(ApprovalRules.outcome([one, two], Self.approval) == .approved)
        #expect(ApprovalRules.outcome([one, no, two], Self.approval) == .denied(by: "C", reason: "risky"))
        #expect(ApprovalRules.deadline(of: Self.waiting(), Self.approval) == 1600)
    }
}
