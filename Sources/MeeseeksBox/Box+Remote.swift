import Logging
import MeeseeksConfig
import MeeseeksCore
import MeeseeksGRPC

extension Box: AgentHost {
    public func register(_ record: AgentRecord, session: String, link: any AgentLink, holding: [JobRef]) throws(AgentRefusal) {
        if let existing = agents[record.id], existing.session != session {
            let lostAfter = Double(config.snapshot.configuration.settings.agentLostAfter)
            if clock() - existing.record.lastSeen < lostAfter / 2 {
                throw AgentRefusal("agent id '\(record.id)' is already connected (from \(existing.record.hostname)); give each agent its own id")
            }
            logger.warning("replacing a silent connection of the same agent", metadata: ["agent": "\(record.id)"])
        }
        connect(record, link: link)
        agents[record.id]?.session = session
        absentSince[record.id] = nil
        // Jobs the box thinks this agent runs, but which it no longer holds: one it confirmed it
        // started ended unseen (lost); one it never confirmed never reached it (the box stopped
        // between dispatch and delivery), so it is queued again, not lost.
        let held = Set(holding.map(\.jobID))
        let running = (try? store.jobs(JobQuery(statuses: [.running], limit: 100_000))) ?? []
        for job in running where job.agent == record.id && !held.contains(job.id) && !job.isBroadcast {
            settleUnheld(job, agent: record.id, reason: "agent \(record.id) came back without it")
        }
        dispatch()  // what was queued again may start now, on this agent too
    }

    public func heartbeat(_ agentID: String, session: String) {
        guard agents[agentID]?.session == session else { return }
        agents[agentID]?.record.lastSeen = clock()
    }

    public func disconnected(_ agentID: String, session: String, lastContact: Double) {
        guard agents[agentID]?.session == session else { return }
        absentSince[agentID] = lastContact
        disconnect(agentID, keepRunning: true, reason: "disconnected")
        reapLostJobs()
    }

    public func agentRefused(_ agentID: String?, reason: String, peer: String) {
        record(AuditRecord(action: "agent.refused", user: agentID ?? "unknown", outcome: "denied", reason: reason, detail: "from \(peer)"))
    }

    public func lostAfter() -> Int {
        config.snapshot.configuration.settings.agentLostAfter
    }

    /// Seconds an agent may take to come back after a box restart (its reconnect backoff is at most 30 s).
    static let reconnectAllowance: Double = 35

    /// Jobs still marked running on agents absent for longer than `lostAfter` are lost.
    public func reapLostJobs() {
        let lostAfter = Double(config.snapshot.configuration.settings.agentLostAfter)
        let now = clock()
        let running = (try? store.jobs(JobQuery(statuses: [.running], limit: 100_000))) ?? []
        for job in running where !job.isBroadcast {
            guard let agent = job.agent, agents[agent] == nil else { continue }
            // An agent not seen since this box started gets longer: it reconnects with a backoff of
            // up to half a minute after the box was down.
            let since = absentSince[agent] ?? startedAt
            let bound = absentSince[agent] == nil ? lostAfter + Self.reconnectAllowance : lostAfter
            if now - since >= bound {
                complete(job.id, attempt: nil, JobOutcome(status: .lost, reason: "agent \(agent) went away (silent for \(Int(now - since))s)"))
            }
        }
    }

    /// A report about a job this agent runs, in this attempt; nil (and a log line) otherwise.
    private func ownJob(_ id: Int64, attempt: Int, agent: String) -> Job? {
        guard let job = try? store.job(id) else {
            logger.warning("report about an unknown job", metadata: ["job_id": "\(id)", "agent": "\(agent)"])
            metrics.agentReportIgnored("unknown_job")
            return nil
        }
        guard job.agent == agent, job.attempt == attempt else {
            logger.warning("report about a job of another agent or attempt", metadata: ["job_id": "\(id)", "agent": "\(agent)", "attempt": "\(attempt)"])
            metrics.agentReportIgnored("not_its_job")
            return nil
        }
        return job
    }

    public func remoteStarted(_ jobID: Int64, attempt: Int, agent: String) {
        guard let job = ownJob(jobID, attempt: attempt, agent: agent) else { return }
        started(job)
    }

    /// A job's process started: for a two-factor command, the agent accepted the code.
    func started(_ job: Job) {
        do {
            _ = try store.confirmStarted(job.id, attempt: job.attempt)
        } catch {
            logger.error("cannot record a job's start", metadata: ["job_id": "\(job.id)", "error": "\(error)"])
        }
        if config.snapshot.configuration.command(named: job.command)?.twoFactor == true {
            record(AuditRecord(action: "2fa.passed", user: job.requester, command: job.command, outcome: "passed", jobID: job.id, detail: "verified by \(job.agent ?? "?")"))
        }
        notifier.changed(job.id)
    }

    public func remoteOutput(_ jobID: Int64, attempt: Int, offset: Int, bytes: [UInt8], isTail: Bool, agent: String) {
        guard let job = ownJob(jobID, attempt: attempt, agent: agent), job.status == .running else { return }
        let received: Int
        if let known = outputReceived[jobID] {
            received = known
        } else {
            do {
                received = try store.outputSize(jobID)
            } catch {
                logger.error("cannot read a job's output size", metadata: ["job_id": "\(jobID)", "error": "\(error)"])
                return
            }
        }
        let end = offset + bytes.count  // the service checked it does not overflow
        guard end > received else { return }
        var fresh = Array(bytes.suffix(end - max(offset, received)))
        if offset > received {
            // A gap: bytes the box never got (a reconnect after more than the agent keeps). A
            // live chunk waits for the tail, which comes with the result; the tail is kept with
            // a marker, never silently joined across the hole.
            guard isTail else { return }
            fresh = Array("\n[… \(offset - received) bytes of output were lost while the agent was disconnected …]\n".utf8) + fresh
        }
        outputReceived[jobID] = end
        let limit = config.snapshot.configuration.settings.outputLimit
        do {
            try store.appendOutput(jobID, fresh, limit: limit)
        } catch {
            logger.error("cannot store output", metadata: ["job_id": "\(jobID)", "error": "\(error)"])
        }
        notifier.changed(jobID)
    }

    public func remoteFinished(_ jobID: Int64, attempt: Int, outcome: JobOutcome, agent: String) {
        guard ownJob(jobID, attempt: attempt, agent: agent) != nil else { return }
        outputReceived[jobID] = nil
        complete(jobID, attempt: attempt, outcome)
        dispatch()
    }

    public func remoteRejected(_ jobID: Int64, attempt: Int, code: String, reason: String, agent: String) {
        guard let job = ownJob(jobID, attempt: attempt, agent: agent), job.status == .running else { return }
        logger.info("agent rejected a job", metadata: ["job_id": "\(jobID)", "agent": "\(agent)", "code": "\(code)", "reason": "\(reason)"])
        switch code {
        case "two_factor", "two_factor_locked":
            record(AuditRecord(
                    action: code == "two_factor" ? "2fa.failed" : "2fa.locked", user: job.requester, command: job.command,
                    outcome: code == "two_factor" ? "failed" : "locked", reason: reason, jobID: jobID, detail: "verified by \(agent)"))
            complete(jobID, attempt: attempt, JobOutcome(status: .failed, reason: "2FA: \(reason)"), tellDialog: job.parentID != nil)
            let dialogID = job.dialogID ?? job.parentID.flatMap { try? store.job($0) }?.dialogID
            if let dialogID {
                handle(dialogID, DialogInput(.codeRejected(message: reason, final: code == "two_factor_locked")))
            }
        case "invalid":
            complete(jobID, attempt: attempt, JobOutcome(status: .failed, reason: reason))
        case "not_accepted":
            complete(jobID, attempt: attempt, JobOutcome(status: .failed, reason: "agent \(agent) does not accept '\(job.command)'"))
        case "shutting_down":
            // It takes nothing more on this connection; others (or it, after a restart) will.
            agents[agent]?.draining = true
            handBack(jobID, attempt: attempt, because: "\(agent): \(reason)")
        default:
            handBack(jobID, attempt: attempt, because: "\(agent): \(reason)")
        }
    }
}
