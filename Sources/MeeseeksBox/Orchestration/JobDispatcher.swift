import Foundation
import Logging
import MeeseeksConfig
import MeeseeksCore
import MeeseeksLabels

/// The only writer of job state. It stores requests as jobs (secrets sealed), starts what can
/// start where the policy and free slots allow, takes jobs back with a backoff, and ends each job
/// once. It keeps the running load and every connected agent's capacity in memory, so a full
/// fleet costs no query per event.
struct JobDispatcher {
    let store: any JobQueueStore & JobHistoryStore
    let audit: AuditTrail
    let changes: ChangeSignal<Int64>
    let metrics: BoxMetrics
    let logger: Logger
    let clock: @Sendable () -> Double

    private(set) var load: RunningLoad
    /// Slots of each connected agent that takes work (draining agents are left out).
    private var capacity: [String: Int] = [:]
    /// Agents with a free slot now: nothing is read from the queue while this is empty.
    private var free: Set<String> = []
    private var scheduler = Scheduler()
    /// The earliest time a handed-back job may be dispatched again.
    private var nextDeferred: Double?
    private var lastQueueMetrics: Double = 0
    /// Sub-jobs of each broadcast not yet ended, counted down as they end, so that each end does
    /// not read every sibling (ten thousand agents would mean 10,000 reads of 10,000 rows). Taken
    /// from the store the first time a broadcast's sub-job ends (also after a restart or a
    /// failover); the store decides once the count reaches zero.
    private var openChildren: [Int64: Int] = [:]
    /// False once shutdown began: queued jobs wait for the next start.
    var accepting = true
    /// The epoch of this box's lease (0 without leader election).
    var epoch: UInt64 = 0

    init(
        store: any JobQueueStore & JobHistoryStore, audit: AuditTrail, changes: ChangeSignal<Int64>, metrics: BoxMetrics,
        logger: Logger, clock: @escaping @Sendable () -> Double
    ) throws {
        self.store = store
        self.audit = audit
        self.changes = changes
        self.metrics = metrics
        self.logger = logger
        self.clock = clock
        load = RunningLoad(try store.runningJobs())
    }

    // MARK: Capacity

    mutating func attach(_ agent: String, slots: Int) {
        capacity[agent] = slots
        refreshFree(agent)
    }

    mutating func detach(_ agent: String) {
        capacity[agent] = nil
        free.remove(agent)
    }

    private mutating func refreshFree(_ agent: String) {
        if let slots = capacity[agent], slots > load.count(on: agent) { free.insert(agent) } else { free.remove(agent) }
    }

    private func freeSlots(_ agent: String) -> Int {
        max(0, (capacity[agent] ?? 0) - load.count(on: agent))
    }

    // MARK: Submitting

    /// Stores a request as a job (or a broadcast with one sub-job per target). The caller
    /// dispatches afterwards.
    /// `isNew` is false when the request was carried out before (its origin is stored): the
    /// job stored then is returned, and nothing is recorded again.
    mutating func submit(_ request: JobRequest, spec: CommandSpec?) throws -> (job: Job, isNew: Bool) {
        var template = Job(
            command: request.command, arguments: request.maskedArguments(for: spec), requester: request.requester,
            channel: request.channel, selector: request.selector.isEverything ? "" : request.selector.description, createdAt: clock(),
            dialogID: request.dialogID, origin: request.origin)
        var children: [Job] = []
        // Four-eyes: nothing is dispatched until enough people approved.
        var awaiting = false
        if spec?.approval != nil {
            template.status = .awaitingApproval
            awaiting = true
        }
        var parent = template
        if request.mode == .all {
            parent.isBroadcast = true
            children = request.targets.map { target in
                var child = template
                child.agent = target
                child.dialogID = nil
                return child
            }
        }
        let (job, stored) = try store.insert(parent, children: children, secrets: request.secrets(for: spec))
        // A job stored now carries the time given it here; one found by its origin is older.
        guard job.createdAt == template.createdAt else { return (job, false) }
        audit.record(
            AuditRecord(
                action: .jobQueued, user: request.requester, command: request.command, outcome: awaiting ? "awaiting_approval" : "queued",
                jobID: job.id,
                detail: stored.isEmpty ? nil : Self.broadcastDetail(stored.compactMap(\.agent))))
        logger.info("job queued", metadata: ["job_id": "\(job.id)", "command": "\(request.command)", "user": "\(request.requester)"])
        metrics.jobQueued()
        return (job, true)
    }

    /// The agents of a broadcast as the audit names them: the count, and the first few (an audit
    /// row stays small with ten thousand agents).
    static func broadcastDetail(_ agents: [String]) -> String {
        agents.count > AgentNames.named
            ? "broadcast to \(agents.count) agents: \(AgentNames.abbreviated(agents))" : "broadcast to \(AgentNames.abbreviated(agents))"
    }

    // MARK: Approval

    /// Queues a job that was awaiting approval; false when it no longer was.
    mutating func release(_ id: Int64) throws -> Bool {
        guard try store.release(id) else { return false }
        changes.changed(id)
        return true
    }

    /// Ends a job that never ran because it was not approved (denied, expired, cancelled). The
    /// job first: once it has ended nothing can release it, so its broadcast's sub-jobs (ended
    /// next, the same way) never run, even if ending them fails.
    mutating func endUnapproved(_ id: Int64, _ outcome: JobOutcome) -> [EndedJob] {
        let ended = complete(id, attempt: nil, outcome)
        guard !ended.isEmpty else { return [] }
        do {
            for child in try store.jobs(JobQuery(parentID: id, limit: Int.max)) where !child.status.isFinal {
                _ = try store.finish(child.id, attempt: nil, outcome: outcome, at: clock())
            }
        } catch {
            logger.error("cannot end a broadcast's sub-jobs (they stay unreleased)", metadata: ["job_id": "\(id)", "error": "\(error)"])
        }
        return ended
    }

    // MARK: Dispatching

    /// Starts every queued job that can start now; returns the jobs that ended instead (failed
    /// at dispatch).
    mutating func dispatch(registry: AgentRegistry, snapshot: ConfigHolder.Snapshot) -> [EndedJob] {
        guard accepting else { return [] }
        let now = clock()
        if now - lastQueueMetrics > 0.25 {
            lastQueueMetrics = now
            do {
                let stats = try store.queueStats()
                metrics.queue(depth: stats.depth, oldest: stats.oldest.map { now - $0 } ?? 0)
            } catch {
                logger.error("cannot read the queue's depth", metadata: ["error": "\(error)"])
            }
        }
        var ended: [EndedJob] = []
        // Every slot taken: nothing can start, so the queue need not be read. Otherwise the
        // oldest jobs first, a page at a time: a page held back (by concurrency, say) does not
        // block later ones.
        var after: Int64 = 0
        for _ in 0..<64 where !free.isEmpty {
            let pageSize = max(8, free.count * 2)
            let queued: [Job]
            do {
                queued = try store.queued(after: after, limit: pageSize)
            } catch {
                logger.error("cannot read the queue", metadata: ["error": "\(error)"])
                break
            }
            guard let last = queued.last else { break }
            after = last.id
            // Handed-back jobs wait out their backoff; the periodic pass comes back for them.
            let due = queued.filter { $0.notBefore <= now }
            for job in queued where job.notBefore > now { nextDeferred = min(nextDeferred ?? job.notBefore, job.notBefore) }
            let planning = ContinuousClock.now
            let decisions = scheduler.plan(
                queued: due, running: load.byCommand, fleet: registry.fleet, free: freeSlots, configuration: snapshot.configuration,
                engine: snapshot.engine)
            if !due.isEmpty { metrics.planned(in: ContinuousClock.now - planning) }
            for decision in decisions {
                switch decision {
                case .fail(let id, let reason):
                    ended += complete(id, attempt: nil, JobOutcome(status: .failed, reason: reason))
                case .start(let id, let agent):
                    ended += start(id, on: agent, link: registry.link(agent), snapshot.configuration)
                }
            }
            if queued.count < pageSize { break }
        }
        return ended
    }

    /// Marks a job running on `agent` and hands it over, with its secrets opened for the journey.
    private mutating func start(_ id: Int64, on agentID: String, link: (any AgentLink)?, _ configuration: Configuration) -> [EndedJob] {
        guard let link else { return [] }
        let now = clock()
        let job: Job
        do {
            guard let started = try store.start(id, agent: agentID, at: now) else { return [] }
            job = started
            if let parent = job.parentID { _ = try store.start(parent, agent: "*", at: now) }
        } catch {
            logger.error("cannot mark a job started", metadata: ["job_id": "\(id)", "error": "\(error)"])
            return []
        }
        load.started(job)
        refreshFree(agentID)
        guard let spec = configuration.command(named: job.command) else {
            return complete(id, attempt: job.attempt, JobOutcome(status: .failed, reason: "the command '\(job.command)' no longer exists"))
        }
        // A job whose secrets are gone fails rather than run with masked values.
        let kept: JobSecrets?
        do {
            kept = try store.secrets(of: id)
        } catch {
            logger.error("cannot open a job's secrets", metadata: ["job_id": "\(id)", "error": "\(error)"])
            return complete(
                id, attempt: job.attempt,
                JobOutcome(status: .failed, reason: "its secret values could not be recovered (\(error)); run it again"))
        }
        if let missing = Self.missingSecret(job, spec: spec, kept: kept) {
            return complete(id, attempt: job.attempt, JobOutcome(status: .failed, reason: missing))
        }
        var arguments = job.arguments
        arguments.merge(kept?.arguments ?? [:]) { _, real in real }
        var plan = ExecutionPlan(
            spec: spec, arguments: arguments, jobID: id, attempt: job.attempt, user: job.requester, twoFactorCode: kept?.code)
        plan.environment["MEESEEKS_AGENT_ID"] = agentID
        plan.outputLimit = configuration.settings.outputLimit
        // The leader's epoch travels with the job: agents refuse an older one's.
        plan.epoch = epoch
        if epoch > 0 { plan.environment["MEESEEKS_EPOCH"] = String(epoch) }
        audit.record(
            AuditRecord(
                action: .jobStarted, user: job.requester, command: job.command, outcome: "running", jobID: id, detail: "on \(agentID)"))
        logger.info("job started", metadata: ["job_id": "\(id)", "agent": "\(agentID)", "attempt": "\(job.attempt)"])
        changes.changed(id)
        do {
            try link.dispatch(plan)
        } catch {
            // The stream is gone: back to the queue, to go elsewhere after a moment.
            handBack(id, attempt: job.attempt, because: "\(error)")
        }
        return []
    }

    /// Why a job cannot run as it was asked, when its secrets were not kept (a job queued before
    /// secrets were sealed, or a sealed value lost): nil when nothing is missing.
    static func missingSecret(_ job: Job, spec: CommandSpec, kept: JobSecrets?) -> String? {
        let masked = spec.arguments.filter { $0.secret && job.arguments[$0.name] == maskedValue && kept?.arguments[$0.name] == nil }
        if let first = masked.first { return "the value of its secret argument '\(first.name)' was not kept; run it again" }
        if spec.twoFactor, kept?.code == nil { return "its 2FA code was not kept; run it again" }
        return nil
    }

    /// A job the agent could not take goes back to the queue, to be dispatched again after a
    /// backoff that doubles with each hand-back (half a second up to 30 s): a draining agent
    /// that is the only candidate never makes it bounce at network speed.
    mutating func handBack(_ id: Int64, attempt: Int, because reason: String) {
        logger.warning("job handed back", metadata: ["job_id": "\(id)", "reason": "\(reason)"])
        do {
            let delay = min(30, 0.5 * Double(1 << min(try store.handbacks(id), 6)))
            let notBefore = clock() + delay
            guard try store.requeue(id, attempt: attempt, notBefore: notBefore) else { return }
            released(id)
            nextDeferred = min(nextDeferred ?? notBefore, notBefore)
            changes.changed(id)
        } catch {
            logger.error("cannot hand a job back to the queue", metadata: ["job_id": "\(id)", "error": "\(error)"])
        }
    }

    /// A running job its agent never started (and no longer holds) goes back to the queue at once.
    mutating func requeueUnstarted(_ job: Job, agent: String) {
        do {
            guard try store.requeue(job.id, attempt: job.attempt, notBefore: 0) else { return }
            released(job.id)
            logger.info("job never started by its agent: queued again", metadata: ["job_id": "\(job.id)", "agent": "\(agent)"])
        } catch {
            logger.error("cannot queue a job again", metadata: ["job_id": "\(job.id)", "error": "\(error)"])
        }
    }

    /// Whether a handed-back job's backoff has passed; clears the mark when it has.
    mutating func deferredDue() -> Bool {
        guard let due = nextDeferred, due <= clock() else { return false }
        nextDeferred = nil
        return true
    }

    private mutating func released(_ id: Int64) {
        let agent = load.entry(id)?.agent
        load.ended(id)
        if let agent { refreshFree(agent) }
    }

    // MARK: Ending

    /// Ends a job once; a repeated or stale result changes nothing. Returns what ended for the
    /// dialogs: the job, or the broadcast it completed.
    mutating func complete(_ id: Int64, attempt: Int?, _ outcome: JobOutcome) -> [EndedJob] {
        do {
            return try record(id, attempt: attempt, outcome)
        } catch {
            logger.error("cannot record a job's end", metadata: ["job_id": "\(id)", "error": "\(error)"])
            return []
        }
    }

    /// `complete`, telling the caller when the store could not record the end (an agent's
    /// result is then kept by the agent and delivered again).
    mutating func record(_ id: Int64, attempt: Int?, _ outcome: JobOutcome) throws -> [EndedJob] {
        let finished: Job?
        do {
            finished = try store.finish(id, attempt: attempt, outcome: outcome, at: clock())
        } catch {
            // The write may have been kept even so (a connection lost after the commit): the
            // counts of open sub-jobs are taken from the store again.
            openChildren.removeAll()
            throw error
        }
        guard let job = finished else {
            logger.info("result ignored: job already ended or attempt is stale", metadata: ["job_id": "\(id)"])
            return try repeatedSubJob(id)
        }
        released(id)
        audit.record(
            AuditRecord(
                action: .jobFinished, user: job.requester, command: job.command, outcome: job.status.rawValue, reason: outcome.reason,
                jobID: id, detail: job.agent.map { "on \($0)" }))
        logger.info(
            "job finished",
            metadata: ["job_id": "\(id)", "status": "\(job.status.rawValue)", "exit_code": "\(outcome.exitCode.map(String.init) ?? "-")"])
        metrics.jobFinished(command: job.command, status: job.status, duration: job.duration)
        changes.changed(id)
        guard let parentID = job.parentID else { return [EndedJob(job: job, children: [])] }
        if let open = openChildren[parentID], open > 1 {
            openChildren[parentID] = open - 1
            return []
        }
        return completeBroadcastIfDone(parentID).map { [$0] } ?? []
    }

    /// A result delivered again for a sub-job that has ended: if its first delivery was
    /// recorded by a write that reported a failure, nobody counted it, and its broadcast is
    /// checked here so that it cannot stay open.
    private mutating func repeatedSubJob(_ id: Int64) throws -> [EndedJob] {
        guard let parentID = try store.job(id)?.parentID, let parent = try store.job(parentID), !parent.status.isFinal else { return [] }
        return completeBroadcastIfDone(parentID).map { [$0] } ?? []
    }

    private mutating func completeBroadcastIfDone(_ parentID: Int64) -> EndedJob? {
        openChildren[parentID] = nil
        do {
            let children = try store.jobs(JobQuery(parentID: parentID, limit: Int.max, oldestFirst: true))
            let open = children.count { !$0.status.isFinal }
            guard open == 0 else {
                openChildren[parentID] = open
                return nil
            }
            let failed = children.filter { $0.status != .succeeded }
            let outcome = JobOutcome(
                status: failed.isEmpty ? .succeeded : .failed, exitCode: failed.isEmpty ? 0 : 1,
                reason: failed.isEmpty ? nil : "\(failed.count) of \(children.count) agents did not succeed")
            guard let parent = try store.finish(parentID, attempt: nil, outcome: outcome, at: clock()) else { return nil }
            changes.changed(parentID)
            return EndedJob(job: parent, children: children)
        } catch {
            logger.error("cannot complete a broadcast", metadata: ["job_id": "\(parentID)", "error": "\(error)"])
            return nil
        }
    }

    /// Marks the running jobs of `agent` lost: nobody will ever report their end.
    mutating func loseJobs(on agent: String, reason: String) -> [EndedJob] {
        load.jobs(on: agent).flatMap { complete($0, attempt: nil, JobOutcome(status: .lost, reason: reason)) }
    }
}

/// A job that ended (a broadcast once its last sub-job did), for the dialog that asked for it.
struct EndedJob {
    var job: Job
    var children: [Job]
}
