public import MeeseeksCore

/// Job state as the dispatcher changes it.
extension InMemoryStore: JobQueueStore {

    public func insert(_ job: Job, children: [Job], secrets: JobSecrets?) throws -> (Job, [Job]) {
        let sealer: (any SecretSealer)? = secrets == nil ? nil : try requireSealer()
        return try write { state in
            // A request carried out twice makes one job: the first is returned.
            if let origin = job.origin {
                let rows = state.jobOrder.compactMap { state.jobs[$0] }
                if let existing = rows.first(where: { $0.job.origin == origin }) {
                    return (existing.job, rows.filter { $0.job.parentID == existing.job.id }.map(\.job))
                }
            }
            // SQLite's foreign key: a parent must exist (children get theirs below).
            if let parentID = job.parentID, state.jobs[parentID] == nil {
                throw InMemoryStoreError("FOREIGN KEY constraint failed: parent job #\(parentID) does not exist")
            }
            // Everything that can fail (sealing) happens before the first change.
            var nextID = state.lastJobID
            func row(for job: Job) throws -> JobRow {
                nextID += 1
                var stored = job
                stored.id = nextID
                var row = JobRow(job: Self.asInserted(stored))
                // Each job that runs holds its own sealed copy, bound to its id.
                if let secrets, let sealer, !job.isBroadcast, !secrets.isEmpty {
                    row.secrets = try sealer.seal(secrets.encoded, context: "job:\(nextID)")
                }
                return row
            }
            let parentRow = try row(for: job)
            let childRows = try children.map { child in
                var child = child
                child.parentID = parentRow.job.id
                return try row(for: child)
            }
            for row in [parentRow] + childRows {
                state.jobs[row.job.id] = row
                state.jobOrder.append(row.job.id)
            }
            state.lastJobID = nextID
            // As SQLite: the template with its new id (and the children's parent id), not a re-read row.
            var parent = job
            parent.id = parentRow.job.id
            let stored = zip(children, childRows).map { child, row in
                var child = child
                child.id = row.job.id
                child.parentID = parent.id
                return child
            }
            return (parent, stored)
        }
    }

    /// What an insert keeps of a job: run state starts empty whatever the template says (SQLite
    /// writes none of these columns on insert).
    static func asInserted(_ job: Job) -> Job {
        var job = job
        job.exitCode = nil
        job.reason = nil
        job.startedAt = nil
        job.finishedAt = nil
        job.notBefore = 0
        job.confirmed = false
        if job.parentID != nil { job.origin = nil }  // the origin is the top-level job's
        return job
    }

    public func start(_ id: Int64, agent: String, at time: Double) throws -> Job? {
        write { state in
            guard var row = state.jobs[id], row.job.status == .queued else { return nil }
            row.job.status = .running
            row.job.agent = agent
            row.job.startedAt = time
            row.job.attempt += 1
            row.job.confirmed = false
            state.jobs[id] = row
            return row.job
        }
    }

    public func finish(_ id: Int64, attempt: Int?, outcome: JobOutcome, at time: Double) throws -> Job? {
        write { state in
            guard var row = state.jobs[id], !row.job.status.isFinal, attempt == nil || attempt == row.job.attempt else {
                return nil
            }
            row.job.status = outcome.status
            row.job.exitCode = outcome.exitCode
            row.job.reason = outcome.reason
            row.job.finishedAt = time
            // The job's secrets go with its end: nothing can dispatch it again.
            row.secrets = nil
            state.jobs[id] = row
            return row.job
        }
    }

    public func requeue(_ id: Int64, attempt: Int, notBefore: Double) throws -> Bool {
        write { state in
            guard var row = state.jobs[id], row.job.status == .running, row.job.attempt == attempt else { return false }
            row.job.status = .queued
            row.job.startedAt = nil
            row.job.notBefore = notBefore
            row.job.confirmed = false
            row.handbacks += 1
            // A broadcast's sub-job stays pinned to its agent; a single job may go anywhere.
            if row.job.parentID == nil { row.job.agent = nil }
            state.jobs[id] = row
            return true
        }
    }

    public func keepSecrets(_ secrets: JobSecrets, of id: Int64) throws -> Bool {
        let sealed = try requireSealer().seal(secrets.encoded, context: "job:\(id)")
        return write { state in
            guard var row = state.jobs[id], row.job.status == .awaitingApproval else { return false }
            row.secrets = sealed
            state.jobs[id] = row
            return true
        }
    }

    public func release(_ id: Int64) throws -> Bool {
        write { state in
            // The job itself must still be waiting: sub-jobs of an ended broadcast stay where they are.
            guard state.jobs[id]?.job.status == .awaitingApproval else { return false }
            var released = false
            for jobID in state.jobOrder {
                guard var row = state.jobs[jobID], row.job.id == id || row.job.parentID == id, row.job.status == .awaitingApproval else {
                    continue
                }
                row.job.status = .queued
                state.jobs[jobID] = row
                released = true
            }
            return released
        }
    }

    public func handbacks(_ id: Int64) throws -> Int {
        read { $0.jobs[id]?.handbacks ?? 0 }
    }

    public func confirmStarted(_ id: Int64, attempt: Int) throws -> Bool {
        write { state in
            guard let row = state.jobs[id], row.job.status == .running, row.job.attempt == attempt, !row.job.confirmed
            else {
                return false
            }
            state.jobs[id]?.job.confirmed = true
            return true
        }
    }

    public func secrets(of id: Int64) throws -> JobSecrets? {
        guard let sealed = read({ $0.jobs[id]?.secrets }) else { return nil }
        let plain = try requireSealer().open(sealed, context: "job:\(id)")
        guard let secrets = JobSecrets(decoding: plain) else { throw SealError.unreadable }
        return secrets
    }

    public func queued(after afterID: Int64, limit: Int) throws -> [Job] {
        read { state in
            Array(
                state.jobRows(after: afterID).lazy.map(\.job).filter { $0.status == .queued && !$0.isBroadcast }.prefix(
                    max(0, limit)))
        }
    }

    public func runningJobs() throws -> [Job] {
        read { state in state.jobRows().map(\.job).filter { $0.status == .running && !$0.isBroadcast } }
    }

    public func queueStats() throws -> (depth: Int, oldest: Double?) {
        read { state in
            var depth = 0
            var oldest: Double?
            for row in state.jobs.values where row.job.status == .queued && !row.job.isBroadcast {
                depth += 1
                oldest = min(oldest ?? row.job.createdAt, row.job.createdAt)
            }
            return (depth, oldest)
        }
    }
}
