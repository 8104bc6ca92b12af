import Foundation
public import MeeseeksAPI
import MeeseeksConfig
public import MeeseeksCore

/// `GET /api/v1/approvals`, `POST /api/v1/jobs/ID/approve` and `…/deny`.
extension BoxAPI {
    public func approvals(as principal: API.Principal) async throws -> [API.Approval] {
        try ApprovalList.pending(
            for: principal.user, store: box.store, snapshot: box.config.snapshot, now: Date().timeIntervalSince1970)
    }

    public func decide(_ id: Int64, approve: Bool, reason: String?, as principal: API.Principal) async throws -> API.Approval {
        if let impersonatedBy = principal.impersonatedBy {
            box.audit.record(
                AuditRecord(
                    action: .approvalRefused, user: principal.user, outcome: "denied", reason: "impersonated", jobID: id,
                    detail: "by \(impersonatedBy)"))
            throw API.Failure(.forbidden, "approving or denying is done in one's own name: use your own token, without --as")
        }
        do {
            let (job, decisions) = try await box.decide(id, by: principal.user, approve: approve, reason: reason)
            let approval =
                box.config.snapshot.configuration.command(named: job.command)?.approval
                ?? ApprovalSpec(roles: [], count: decisions.count)
            return ApprovalList.item(job, approval, decisions)
        } catch {
            throw Self.failure(error)
        }
    }

    /// A refusal as the API answers it: who may not decide (403), what no longer can be (409),
    /// what was asked wrongly (400), what is not there (404), a store out of reach (503).
    static func failure(_ refusal: ApprovalRefusal) -> API.Failure {
        let kind: API.Failure.Kind =
            switch refusal.code {
            case "not_found": .notFound
            case "own_request", "no_role", "impersonated": .forbidden
            case "reason_required", "reason_too_long": .badRequest
            case "unavailable": .unavailable
            default: .conflict
            }
        return API.Failure(kind, refusal.description)
    }
}
