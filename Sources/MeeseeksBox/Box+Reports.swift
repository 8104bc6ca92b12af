import Logging
import MeeseeksConfig
import MeeseeksCore

extension Box {
    public func jobStarted(_ id: Int64, attempt: Int) {
        guard let job = try? store.job(id), job.attempt == attempt else { return }
        started(job)
    }

    /// The embedded agent refused a job (a 2FA verdict, usually).
    public func jobRefused(_ id: Int64, attempt: Int, code: String, reason: String) {
        guard let job = try? store.job(id), let agent = job.agent else { return }
        remoteRejected(id, attempt: attempt, code: code, reason: reason, agent: agent)
    }

    /// Output goes straight to the store, capped per job.
    public nonisolated func jobOutput(_ id: Int64, attempt: Int, _ bytes: [UInt8]) async {
        let limit = config.snapshot.configuration.settings.outputLimit
        do {
            try store.appendOutput(id, bytes, limit: limit)
        } catch {
            logger.error("cannot store output", metadata: ["job_id": "\(id)", "error": "\(error)"])
        }
        notifier.changed(id)
    }

    public func jobFinished(_ id: Int64, attempt: Int, _ outcome: JobOutcome) {
        complete(id, attempt: attempt, outcome)
        dispatch()
    }

    /// Ends a job once; a repeated or stale result changes nothing. `tellDialog: false` when the
    /// caller tells the dialog itself (a refused 2FA code asks again instead of reporting a failure).
    func complete(_ id: Int64, attempt: Int?, _ outcome: JobOutcome, tellDialog: Bool = true) {
        let now = clock()
        guard let job = try? store.finish(id, attempt: attempt, outcome: outcome, at: now) else {
            logger.info("result ignored: job already ended or attempt is stale", metadata: ["job_id": "\(id)"])
            return
        }
        // A job that had started held a slot until now.
        if job.startedAt != nil { load?.ended(job) }
        outputReceived[id] = nil
        record(AuditRecord(
                action: "job.finished", user: job.requester, command: job.command, outcome: job.status.rawValue,
                reason: outcome.reason, jobID: id, detail: job.agent.map { "on \($0)" }))
        logger.info(
            "job finished",
            metadata: ["job_id": "\(id)", "status": "\(job.status.rawValue)", "exit_code": "\(outcome.exitCode.map(String.init) ?? "-")"])
        metrics.jobFinished(command: job.command, status: job.status, duration: job.duration)
        notifier.changed(id)
        if let parentID = job.parentID {
            completeBroadcastIfDone(parentID)
        } else if tellDialog {
            report(job, children: [])
        }
    }

    private func completeBroadcastIfDone(_ parentID: Int64) {
        guard let children = try? store.jobs(JobQuery(parentID: parentID, limit: 10_000, oldestFirst: true)),
            children.allSatisfy(\.status.isFinal)
        else { return }
        let failed = children.filter { $0.status != .succeeded }
        let outcome = JobOutcome(
            status: failed.isEmpty ? .succeeded : .failed, exitCode: failed.isEmpty ? 0 : 1,
            reason: failed.isEmpty ? nil : "\(failed.count) of \(children.count) agents did not succeed")
        guard let parent = try? store.finish(parentID, attempt: nil, outcome: outcome, at: clock()) else { return }
        notifier.changed(parentID)
        report(parent, children: children)
    }

    /// Tells the job's dialog how it ended.
    private func report(_ job: Job, children: [Job]) {
        guard let dialogID = job.dialogID else { return }
        metrics.dialogCompleted()
        handle(dialogID, DialogInput(.jobFinished(jobReport(job, children: children))))
    }

    /// A job's result as a dialog shows it: the end of its output, and one line per agent.
    func jobReport(_ job: Job, children: [Job]) -> JobReport {
        let tailBytes = 2500
        func tail(_ id: Int64) -> (String, Bool) {
            let size = (try? store.outputSize(id)) ?? 0
            let from = max(0, size - tailBytes)
            let bytes = (try? store.output(id, from: from, limit: tailBytes)) ?? []
            return (String(decoding: bytes, as: UTF8.self), from > 0)
        }
        let (output, truncated) = children.isEmpty ? tail(job.id) : ("", false)
        let perAgent = children.map { child in
            JobReport.AgentResult(
                agent: child.agent ?? "?", jobID: child.id, status: child.status, exitCode: child.exitCode,
                output: String(tail(child.id).0.suffix(600)))
        }
        return JobReport(
            jobID: job.id, command: job.command, status: job.status, exitCode: job.exitCode, reason: job.reason,
            output: output, truncated: truncated, perAgent: perAgent)
    }

    // MARK: - Cancel

    public enum CancelError: Error, CustomStringConvertible {
        case notFound(Int64)
        case notYours(Int64)
        case alreadyEnded(Int64, JobStatus)

        public var description: String {
            switch self {
            case .notFound(let id): "there is no job #\(id)"
            case .notYours(let id): "job #\(id) is not yours; only its requester or an admin may cancel it"
            case .alreadyEnded(let id, let status): "job #\(id) has already ended (\(status.rawValue))"
            }
        }
    }

    /// Cancels a job (and a broadcast's sub-jobs): queued ones at once, running ones on their agent.
    public func cancel(_ id: Int64, by user: String, asAdmin: Bool) throws(CancelError) -> Job {
        guard let job = try? store.job(id) else { throw .notFound(id) }
        guard job.requester == user || asAdmin else { throw .notYours(id) }
        guard !job.status.isFinal else { throw .alreadyEnded(id, job.status) }
        record(AuditRecord(action: asAdmin && job.requester != user ? "job.killed" : "job.cancel_requested", user: user, command: job.command, outcome: "ok", jobID: id))
        let targets = job.isBroadcast ? ((try? store.jobs(JobQuery(parentID: id, limit: 10_000))) ?? []) : [job]
        for target in targets where !target.status.isFinal {
            if target.status == .queued {
                complete(target.id, attempt: nil, JobOutcome(status: .cancelled, reason: "cancelled by \(user)"))
            } else if let agent = target.agent, let link = agents[agent]?.link {
                let attempt = target.attempt
                // Owned by the box: the agent answers with the job's result when the group is gone.
                Task { await link.cancel(jobID: target.id, attempt: attempt) }
            } else {
                complete(target.id, attempt: nil, JobOutcome(status: .lost, reason: "its agent is gone"))
            }
        }
        return (try? store.job(id)) ?? job
    }
}
