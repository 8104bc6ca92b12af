public import MeeseeksCore

/// Decisions on jobs awaiting approval, kept with their job.
extension InMemoryStore: ApprovalStore {
    public func recordDecision(_ decision: ApprovalDecision) throws -> Bool {
        try write { state in
            // SQLite's foreign key: the job must exist.
            guard var row = state.jobs[decision.jobID] else {
                throw InMemoryStoreError("FOREIGN KEY constraint failed: job #\(decision.jobID) does not exist")
            }
            guard !row.decisions.contains(where: { $0.approver == decision.approver }) else { return false }
            row.decisions.append(decision)
            state.jobs[decision.jobID] = row
            return true
        }
    }

    public func decisions(on jobID: Int64) throws -> [ApprovalDecision] {
        read { state in
            (state.jobs[jobID]?.decisions ?? []).sorted { ($0.at, $0.approver) < ($1.at, $1.approver) }
        }
    }
}
