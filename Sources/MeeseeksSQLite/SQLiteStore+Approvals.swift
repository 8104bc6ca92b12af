public import MeeseeksCore

/// Decisions on jobs awaiting approval: one row per person and job.
extension SQLiteStore {
    public func recordDecision(_ decision: ApprovalDecision) throws -> Bool {
        try database.transaction { db in
            try db.query(
                "INSERT INTO approvals (job_id, approver, approved, reason, at) VALUES (?, ?, ?, ?, ?) ON CONFLICT (job_id, approver) DO NOTHING",
                [
                    .integer(decision.jobID), .text(decision.approver), .integer(decision.approved ? 1 : 0), .optional(decision.reason),
                    .real(decision.at),
                ])
            return db.changes == 1
        }
    }

    public func decisions(on jobID: Int64) throws -> [ApprovalDecision] {
        try database.query(
            "SELECT job_id, approver, approved, reason, at FROM approvals WHERE job_id = ? ORDER BY at, approver", [.integer(jobID)]
        ).map { row in
            ApprovalDecision(
                jobID: row.int(0) ?? 0, approver: row.string(1) ?? "", approved: row.int(2) == 1, reason: row.string(3),
                at: row.double(4) ?? 0)
        }
    }
}
