import Logging
import MeeseeksConfig
public import MeeseeksCore
public import MeeseeksGRPC

/// Agents coming and going, and what they report: the registry admits them, the dispatcher
/// gives them work and takes their results, through one report entrance for the embedded agent
/// and remote ones alike.
extension Orchestrator: AgentHost {
    // MARK: Coming and going

    /// Admits a remote agent; jobs the box thinks it runs but it no longer holds are settled
    /// (lost if it had started them, queued again if it never had).
    public func register(
        _ record: AgentRecord, offer: AgentOffer, session: String, link: any AgentLink, holding: [JobRef]
    ) throws(AgentRefusal) {
        guard !deposed else { throw AgentRefusal("this box no longer leads") }
        var record = record
        record.verifiesTwoFactor = offer.verifiesTwoFactor
        try admit(record, session: session, link: link, embedded: false)
        offerCommands(record.id, definitions: offer.definitions, digests: offer.digests)
        saveRecord(record.id)
        let held = Set(holding.map(\.jobID))
        for id in dispatcher.load.jobs(on: record.id) where !held.contains(id) {
            settleUnheld(id, agent: record.id, reason: "agent \(record.id) came back without it")
        }
        dispatch()  // what was queued again may start now, on this agent too
    }

    /// Connects the embedded agent.
    public func connectLocal(_ record: AgentRecord, link: any AgentLink) {
        do {
            try admit(record, session: LocalAgent.id, link: link, embedded: true)
        } catch {
            logger.error("cannot connect the embedded agent", metadata: ["error": "\(error)"])
        }
        dispatch()
    }

    private func admit(_ record: AgentRecord, session: String, link: any AgentLink, embedded: Bool) throws(AgentRefusal) {
        var record = record
        record.connected = true
        record.lastSeen = clock()
        try registry.admit(record, session: session, link: link, embedded: embedded)
        if !embedded { liveLinks.set(record.id, link) }
        dispatcher.attach(record.id, slots: record.slots)
        saveRecord(record.id)
        audit.record(AuditRecord(action: .agentRegistered, user: record.id, outcome: "ok", detail: "labels \(record.labels)"))
        logger.info("agent connected", metadata: ["agent": "\(record.id)", "labels": "\(record.labels)"])
        metrics.agents(connected: registry.connected.count)
    }

    /// Stores a connected agent's record as the fleet view shows it.
    func saveRecord(_ id: String) {
        guard let record = registry.connected[id]?.record else { return }
        do {
            try store.save(record)
        } catch {
            logger.error("cannot record an agent", metadata: ["agent": "\(id)", "error": "\(error)"])
        }
    }

    /// The stream of `session` ended: the agent takes no more work; its running jobs wait for it
    /// to come back (they are lost after `agents.lost_after`).
    public func disconnected(_ agentID: String, session: String, lastContact: Double) {
        guard let record = registry.remove(agentID, session: session, lastContact: lastContact) else { return }
        liveLinks.set(agentID, nil)
        dispatcher.detach(agentID)
        withdrawCommands(agentID)
        do {
            try store.save(record)
        } catch {
            logger.error("cannot record an agent", metadata: ["agent": "\(agentID)", "error": "\(error)"])
        }
        logger.warning("agent disconnected", metadata: ["agent": "\(agentID)"])
        metrics.agents(connected: registry.connected.count)
        reapLostJobs()
        dispatch()
    }

    public func agentRefused(_ agentID: String?, reason: String, peer: String) {
        audit.record(
            AuditRecord(action: .agentRefused, user: agentID ?? "unknown", outcome: "denied", reason: reason, detail: "from \(peer)"))
    }

    public func lostAfter() -> Int {
        config.snapshot.configuration.settings.agentLostAfter
    }

    /// Jobs still running on agents absent for longer than `lostAfter` are lost.
    public func reapLostJobs() {
        let lostAfter = Double(config.snapshot.configuration.settings.agentLostAfter)
        for (agent, silent) in registry.overdue(among: dispatcher.load.agents, now: clock(), lostAfter: lostAfter) {
            settle(dispatcher.loseJobs(on: agent, reason: "agent \(agent) went away (silent for \(Int(silent))s)"))
        }
    }

    /// After a restart: jobs that were running on the embedded agent died with the box (or, if
    /// it never started them, go back to the queue).
    public func recover(localAgent: String) {
        for id in dispatcher.load.jobs(on: localAgent) {
            settleUnheld(id, agent: localAgent, reason: "the box restarted while it ran")
        }
    }

    /// A running job its agent no longer holds: lost if the agent confirmed it started it,
    /// queued again if it never did.
    private func settleUnheld(_ id: Int64, agent: String, reason: String) {
        let job: Job
        do {
            guard let found = try store.job(id) else { return }
            job = found
        } catch {
            logger.error("cannot read a job its agent no longer holds", metadata: ["job_id": "\(id)", "error": "\(error)"])
            return
        }
        if job.confirmed {
            settle(dispatcher.complete(id, attempt: nil, JobOutcome(status: .lost, reason: reason)))
        } else {
            dispatcher.requeueUnstarted(job, agent: agent)
            intake.forget(id)
        }
    }

    /// The agents connected right now.
    public func connectedAgentIDs() -> Set<String> { Set(registry.connected.keys) }

    /// Agents as the fleet view shows them: connected ones live, the others as last seen.
    public func agentRecords() -> [AgentRecord] {
        var records: [String: AgentRecord] = [:]
        do {
            for record in try store.agents() { records[record.id] = record }
        } catch {
            logger.error("cannot read agents as last seen", metadata: ["error": "\(error)"])
        }
        for (id, connected) in registry.connected {
            var record = connected.record
            // Shadowing follows the live files (a reload may have added or removed a name).
            let standing = standing(of: id)
            (record.owns, record.conflicts, record.shadowed) = (standing.owns, standing.conflicts, standing.shadowed)
            records[id] = record
        }
        return records.values.map { record in
            var record = record
            record.busy = dispatcher.load.count(on: record.id)
            return record
        }.sorted { $0.id < $1.id }
    }

    // MARK: Reports

    public func remoteStarted(_ jobID: Int64, attempt: Int, agent: String) {
        report(.started, job: jobID, attempt: attempt, from: agent)
    }

    public func remoteOutput(_ jobID: Int64, attempt: Int, offset: Int, bytes: [UInt8], isTail: Bool, agent: String) {
        report(.output(offset: offset, bytes: bytes, isTail: isTail), job: jobID, attempt: attempt, from: agent)
    }

    /// True once the result is recorded (or was already): only then may the agent forget it.
    public func remoteFinished(_ jobID: Int64, attempt: Int, outcome: JobOutcome, agent: String) -> Bool {
        finished(jobID, attempt: attempt, outcome: outcome, agent: agent) == .recorded
    }

    /// What became of a job's end an agent reported.
    enum Recording {
        /// Recorded, or known already: the agent may forget it.
        case recorded
        /// The store cannot record it now (a full disk, a lost database): keep it, report it again.
        case later
        /// This box no longer leads: a remote agent delivers it to the next leader; the embedded
        /// agent's jobs are marked lost by that leader, so it stops trying.
        case deposed
    }

    /// A job's end, from any agent. Nothing may drop it: until it is recorded, the agent keeps it.
    func finished(_ jobID: Int64, attempt: Int, outcome: JobOutcome, agent: String) -> Recording {
        guard !deposed else { return .deposed }
        guard ReportIntake.owns(dispatcher.load, jobID, attempt: attempt, agent: agent) else {
            ignore(.finished(outcome), job: jobID, attempt: attempt, from: agent)
            return .recorded
        }
        guard !intake.missesOutput(jobID) else {
            logger.error("a job's output is not all stored; the agent keeps the result", metadata: ["job_id": "\(jobID)"])
            return .later
        }
        do {
            settle(try dispatcher.record(jobID, attempt: attempt, outcome))
        } catch {
            logger.error("cannot record a job's end; the agent keeps the result", metadata: ["job_id": "\(jobID)", "error": "\(error)"])
            return .later
        }
        intake.forget(jobID)
        dispatch()
        return .recorded
    }

    public func authenticate(agentID: String, token: String) -> AgentAuthentication {
        AgentAuthenticator(credentials: store).authenticate(agentID: agentID, token: token)
    }

    /// Revoked credentials, checked every second: a live agent whose credential was revoked is
    /// disconnected at once and its running jobs are lost (it may not report them any more).
    public func applyRevocations() {
        let revoked: [String]
        do {
            (revoked, lastRevocation) = try store.revokedCredentials(after: lastRevocation)
        } catch {
            logger.error("cannot read revoked agent credentials", metadata: ["error": "\(error)"])
            return
        }
        for id in revoked {
            guard let link = registry.link(id) else { continue }
            logger.warning("agent credential revoked; disconnecting it", metadata: ["agent": "\(id)"])
            audit.record(AuditRecord(action: .agentRevoked, user: id, outcome: "disconnected", detail: "its credential was revoked"))
            settle(dispatcher.loseJobs(on: id, reason: "agent \(id)'s credential was revoked"))
            link.close()
        }
    }

    public func admission() -> AgentAdmission {
        .accept(epoch: dispatcher.epoch)
    }

    public func remoteRejected(_ jobID: Int64, attempt: Int, code: String, reason: String, agent: String) {
        report(.rejected(code: code, reason: reason), job: jobID, attempt: attempt, from: agent)
    }

    /// Every report, from any agent: only about a job this agent runs, in this attempt.
    func report(_ report: AgentReport, job id: Int64, attempt: Int, from agent: String) {
        guard !deposed else { return }  // a deposed leader writes nothing; the next one takes over
        guard ReportIntake.owns(dispatcher.load, id, attempt: attempt, agent: agent) else {
            ignore(report, job: id, attempt: attempt, from: agent)
            return
        }
        switch report {
        case .started:
            started(id, attempt: attempt, agent: agent)
        case .output(let offset, let bytes, let isTail):
            store(output: bytes, of: id, at: offset, isTail: isTail)
        case .finished(let outcome):
            _ = finished(id, attempt: attempt, outcome: outcome, agent: agent)
        case .rejected(let code, let reason):
            rejected(id, attempt: attempt, code: code, reason: reason, agent: agent)
        }
    }

    /// A report about a job this agent does not run now: a repeated result (already recorded) is
    /// fine; anything else is logged and counted, and changes nothing.
    private func ignore(_ report: AgentReport, job id: Int64, attempt: Int, from agent: String) {
        let known: Job?
        do {
            known = try store.job(id)
        } catch {
            logger.error("cannot read a reported job", metadata: ["job_id": "\(id)", "error": "\(error)"])
            return
        }
        if case .finished = report, let known, known.status.isFinal, known.agent == agent { return }
        logger.warning(
            "report about a job this agent does not run", metadata: ["job_id": "\(id)", "agent": "\(agent)", "attempt": "\(attempt)"])
        metrics.agentReportIgnored(known == nil ? "unknown_job" : "not_its_job")
    }

    /// A job by id for a message; nil (logged) when it cannot be read.
    private func job(_ id: Int64) -> Job? {
        do {
            return try store.job(id)
        } catch {
            logger.error("cannot read a job", metadata: ["job_id": "\(id)", "error": "\(error)"])
            return nil
        }
    }

    private func dialogOf(_ id: Int64) -> String? { job(id)?.dialogID }

    /// The job's process started: for a two-factor command, the agent accepted the code.
    private func started(_ id: Int64, attempt: Int, agent: String) {
        do {
            _ = try store.confirmStarted(id, attempt: attempt)
            if let job = try store.job(id), config.snapshot.configuration.command(named: job.command)?.twoFactor == true {
                audit.record(
                    AuditRecord(
                        action: .twoFactorPassed, user: job.requester, command: job.command, outcome: "passed", jobID: id,
                        detail: "verified by \(agent)"))
            }
        } catch {
            logger.error("cannot record a job's start", metadata: ["job_id": "\(id)", "error": "\(error)"])
        }
        jobChanges.changed(id)
    }

    private func store(output bytes: [UInt8], of id: Int64, at offset: Int, isTail: Bool) {
        do {
            if let fresh = try intake.fresh(id, offset: offset, bytes: bytes, isTail: isTail, stored: { try store.outputSize(id) }) {
                try store.appendOutput(id, fresh, limit: config.snapshot.configuration.settings.outputLimit)
            }
            if isTail { intake.storedTail(id) }
        } catch {
            logger.error("cannot store output; the job's end waits for its tail", metadata: ["job_id": "\(id)", "error": "\(error)"])
            intake.failedToStore(id)
        }
        jobChanges.changed(id)
    }

    /// The agent would not run the job: a refused 2FA code asks the user again (or ends the
    /// dialog), a malformed job fails, anything else goes back to the queue.
    private func rejected(_ id: Int64, attempt: Int, code: String, reason: String, agent: String) {
        logger.info("agent rejected a job", metadata: ["job_id": "\(id)", "agent": "\(agent)", "code": "\(code)", "reason": "\(reason)"])
        intake.forget(id)
        switch code {
        case "two_factor", "two_factor_locked":
            let job: Job?
            do {
                job = try store.job(id)
            } catch {
                logger.error("cannot read a rejected job", metadata: ["job_id": "\(id)", "error": "\(error)"])
                job = nil
            }
            let locked = code == "two_factor_locked"
            if let job {
                audit.record(
                    AuditRecord(
                        action: locked ? .twoFactorLocked : .twoFactorFailed, user: job.requester, command: job.command,
                        outcome: locked ? "locked" : "failed", reason: reason, jobID: id, detail: "verified by \(agent)"))
            }
            let ended = dispatcher.complete(id, attempt: attempt, JobOutcome(status: .failed, reason: "2FA: \(reason)"))
            // A broadcast's end goes to its dialog as usual; a single job's dialog asks again.
            settle(ended.filter { $0.job.id != id })
            let dialogID = job?.dialogID ?? job?.parentID.flatMap { parent in dialogOf(parent) }
            if let dialogID { handle(dialogID, DialogInput(.codeRejected(message: reason, final: locked))) }
        case "invalid", "not_accepted":
            // The agent's own checks: what it refused is audited, and the requester told why.
            let refused = job(id)
            let why = code == "invalid" ? reason : "agent \(agent) does not accept '\(refused?.command ?? "?")'"
            audit.record(
                AuditRecord(
                    action: .jobRefusedByAgent, user: refused?.requester ?? "unknown", command: refused?.command, outcome: "refused",
                    reason: why, jobID: id, detail: "by \(agent) (\(code))"))
            settle(dispatcher.complete(id, attempt: attempt, JobOutcome(status: .failed, reason: why)))
        case "shutting_down":
            // It takes nothing more on this connection; others (or it, after a restart) will.
            registry.markDraining(agent)
            dispatcher.detach(agent)
            dispatcher.handBack(id, attempt: attempt, because: "\(agent): \(reason)")
        default:
            dispatcher.handBack(id, attempt: attempt, because: "\(agent): \(reason)")
        }
        dispatch()
    }
}
