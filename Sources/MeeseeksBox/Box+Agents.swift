import Logging
import MeeseeksCore

extension Box {
    /// An agent connected (or reconnected): it takes work from now on.
    public func connect(_ record: AgentRecord, link: any AgentLink) {
        var record = record
        record.connected = true
        record.lastSeen = clock()
        agents[record.id] = Connected(record: record, link: link)
        try? store.save(record)
        self.record(AuditRecord(action: "agent.registered", user: record.id, outcome: "ok", detail: "labels \(record.labels)"))
        logger.info("agent connected", metadata: ["agent": "\(record.id)", "labels": "\(record.labels)"])
        metrics.agents(connected: agents.count)
        dispatch()
    }

    /// An agent went away: it takes no more work, and its running jobs are lost unless
    /// `keepRunning` (it may come back and deliver their results).
    public func disconnect(_ id: String, keepRunning: Bool = false, reason: String = "disconnected") {
        guard var connected = agents.removeValue(forKey: id) else { return }
        connected.record.connected = false
        connected.record.lastSeen = clock()
        try? store.save(connected.record)
        logger.warning("agent disconnected", metadata: ["agent": "\(id)", "reason": "\(reason)"])
        metrics.agents(connected: agents.count)
        if !keepRunning { loseRunningJobs(on: id, reason: "agent \(id) \(reason)") }
        dispatch()
    }

    /// Marks the running jobs of `agent` lost: nobody will ever report their end.
    public func loseRunningJobs(on agent: String, reason: String) {
        let running = (try? store.jobs(JobQuery(statuses: [.running], limit: 100_000))) ?? []
        for job in running where job.agent == agent && !job.isBroadcast {
            complete(job.id, attempt: nil, JobOutcome(status: .lost, reason: reason))
        }
    }

    /// Agents as the registry shows them: connected ones live, the others as last seen.
    public func agentRecords() -> [AgentRecord] {
        let running = (try? store.jobs(JobQuery(statuses: [.running], limit: 100_000))) ?? []
        var busy: [String: Int] = [:]
        for job in running where !job.isBroadcast { if let agent = job.agent { busy[agent, default: 0] += 1 } }
        var records = Dictionary(uniqueKeysWithValues: ((try? store.agents()) ?? []).map { ($0.id, $0) })
        for (id, connected) in agents { records[id] = connected.record }
        return records.values.map { record in
            var record = record
            record.busy = busy[record.id, default: 0]
            return record
        }.sorted { $0.id < $1.id }
    }

    /// Connected agents, for the interpreter's world and the policy engine.
    func connectedAgents() -> [AgentInfo] {
        agents.values.map(\.record.info).sorted { $0.id < $1.id }
    }

    /// A running job its agent no longer holds: lost if the agent had started it, queued again
    /// (at once) if it never had.
    func settleUnheld(_ job: Job, agent: String, reason: String) {
        guard !job.confirmed else {
            complete(job.id, attempt: nil, JobOutcome(status: .lost, reason: reason))
            return
        }
        do {
            if try store.requeue(job.id, attempt: job.attempt, notBefore: 0) {
                load?.ended(job)
                logger.info("job never started by its agent: queued again", metadata: ["job_id": "\(job.id)", "agent": "\(agent)"])
            }
        } catch {
            logger.error("cannot queue a job again", metadata: ["job_id": "\(job.id)", "error": "\(error)"])
        }
    }

    /// After a restart: jobs that were running on the embedded agent died with the box (or, if it
    /// never started them, go back to the queue).
    public func recover(localAgent: String) {
        let running = (try? store.jobs(JobQuery(statuses: [.running], limit: 100_000))) ?? []
        for job in running where job.agent == localAgent && !job.isBroadcast {
            settleUnheld(job, agent: localAgent, reason: "the box restarted while it ran")
        }
        let queued = (try? store.jobs(JobQuery(statuses: [.queued], limit: 100_000))) ?? []
        if !queued.isEmpty { logger.info("resuming queued jobs", metadata: ["count": "\(queued.count)"]) }
    }
}

extension Box {
    /// Shutting down: queued jobs stay queued for the next start, nothing new is dispatched.
    public func stopAccepting() {
        accepting = false
    }

    /// Jobs running on the embedded agent.
    public func localRunningCount() -> Int {
        ((try? store.jobs(JobQuery(statuses: [.running], limit: 100_000))) ?? []).filter { $0.agent == "local" }.count
    }

    /// Cancels the embedded agent's running jobs (end of the grace period).
    public func cancelLocalJobs() {
        let running = ((try? store.jobs(JobQuery(statuses: [.running], limit: 100_000))) ?? []).filter { $0.agent == "local" }
        for job in running {
            if let link = agents["local"]?.link {
                let attempt = job.attempt
                Task { await link.cancel(jobID: job.id, attempt: attempt) }
            }
        }
    }
}
