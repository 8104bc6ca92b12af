public import MeeseeksCore

/// Decisions on jobs awaiting approval: one row per person and job, fenced like every
/// orchestration write.
extension PostgresStore {
    public func recordDecision(_ decision: ApprovalDecision) throws -> Bool {
        try pool.transaction { session in
            try checkFence(session)
            return try session.query(
                """
                INSERT INTO approvals (job_id, approver, approved, reason, at) VALUES ($1, $2, $3, $4, $5)
                ON CONFLICT (job_id, approver) DO NOTHING
                """,
                [
                    .int(decision.jobID), .text(decision.approver), .bool(decision.approved), .optional(decision.reason),
                    .double(decision.at),
                ]
            ).rowsAffected == 1
        }
    }

    public func decisions(on jobID: Int64) throws -> [ApprovalDecision] {
        try pool.withConnection { session in
            try session.query(
                "SELECT job_id, approver, approved, reason, at FROM approvals WHERE job_id = $1 ORDER BY at, approver", [.int(jobID)]
            ).rows.map { row in
                ApprovalDecision(
                    jobID: try row.int(0) ?? 0, approver: try row.string(1) ?? "", approved: try row.bool(2) ?? false,
                    reason: try row.string(3), at: try row.double(4) ?? 0)
            }
        }
    }
}
