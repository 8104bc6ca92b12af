import Foundation
import Logging
public import MeeseeksConfig
public import MeeseeksCore
import MeeseeksLabels

/// The orchestrator: stores jobs before they run, starts them where the policy and free slots
/// allow, collects their output and results, and tells the dialogs that asked for them.
///
/// One actor serialises every scheduling decision; the store is the source of truth, so a
/// restarted box picks up exactly where it stopped.
public actor Box: JobReporter {
    public let store: any JobStore
    public let config: ConfigHolder
    let logger: Logger
    let clock: @Sendable () -> Double

    struct Connected {
        var record: AgentRecord
        var link: any AgentLink
        /// One per stream, so the end of an old stream never removes a newer one.
        var session: String = "local"
        /// The agent said it is shutting down: it gets no more jobs on this connection.
        var draining = false
    }

    var agents: [String: Connected] = [:]
    /// When each absent agent was last heard from; its running jobs are lost `lostAfter` later.
    var absentSince: [String: Double] = [:]
    /// Bytes of each running job's output received so far, so a resent chunk is not stored twice.
    var outputReceived: [Int64: Int] = [:]
    let startedAt: Double
    /// False once shutdown began: queued jobs wait for the next start.
    var accepting = true
    /// Running jobs per agent and per command, kept in step with the store by the only code that
    /// changes job states (this actor), so a full fleet costs no query per event.
    var load: RunningLoad?
    var lastQueueMetrics: Double = 0
    var scheduler = Scheduler()
    /// The earliest time a handed-back job may be dispatched again, so the periodic pass knows
    /// when a deferred job is due.
    var nextDeferred: Double?
    var transports: [String: any ChatTransport] = [:]
    let notifier = JobNotifier()
    public nonisolated let metrics = BoxMetrics()

    public init(store: any JobStore, config: ConfigHolder, logger: Logger, clock: @escaping @Sendable () -> Double = { Date().timeIntervalSince1970 }) {
        self.store = store
        self.config = config
        self.logger = logger
        self.clock = clock
        self.startedAt = clock()
    }

    public func register(transport: any ChatTransport, kind: String) {
        transports[kind] = transport
    }

    // MARK: - Submitting

    /// Stores a request as a job (or a broadcast with one sub-job per target) and starts what can start.
    public func submit(_ request: JobRequest) throws -> Job {
        let spec = config.snapshot.configuration.command(named: request.command)
        let now = clock()
        let masked = request.maskedArguments(for: spec)
        let template = Job(
            command: request.command, arguments: masked, requester: request.requester, channel: request.channel,
            selector: request.selector.isEverything ? "" : request.selector.description, createdAt: now,
            dialogID: request.dialogID)
        let (job, children): (Job, [Job])
        let secrets = request.secrets(for: spec)
        if request.mode == .all {
            var parent = template
            parent.isBroadcast = true
            let subJobs = request.targets.map { target -> Job in
                var child = template
                child.agent = target
                child.dialogID = nil
                return child
            }
            (job, children) = try store.insert(parent, children: subJobs, secrets: secrets)
        } else {
            (job, children) = try store.insert(template, children: [], secrets: secrets)
        }
        record(AuditRecord(action: "job.queued", user: request.requester, command: request.command, outcome: "queued", jobID: job.id,
                detail: children.isEmpty ? nil : "broadcast to \(children.compactMap(\.agent).joined(separator: ","))"))
        logger.info("job queued", metadata: ["job_id": "\(job.id)", "command": "\(request.command)", "user": "\(request.requester)"])
        metrics.jobQueued()
        dispatch()
        return job
    }

    // MARK: - Dispatching

    /// Starts every queued job that can start now.
    func dispatch() {
        guard accepting else { return }
        let snapshot = config.snapshot
        let load: RunningLoad
        if let known = self.load {
            load = known
        } else {
            guard let running = try? store.jobs(JobQuery(statuses: [.running], limit: 100_000)) else {
                logger.error("cannot read the running jobs")
                return
            }
            load = RunningLoad(running)
            self.load = load
        }
        let now = clock()
        if now - lastQueueMetrics > 0.25, let stats = try? store.queueStats() {
            lastQueueMetrics = now
            metrics.queue(depth: stats.depth, oldest: stats.oldest.map { now - $0 } ?? 0)
        }
        let perCommand = load.commands
        let slots = agents.values.filter { !$0.draining }.map {
            Scheduler.Slot(agent: $0.record.info, free: $0.record.slots - load.agents[$0.record.id, default: 0])
        }
        // Every slot taken: nothing can start, so the queue need not be read.
        guard slots.contains(where: { $0.free > 0 }) else { return }
        // The oldest jobs first, a page at a time: a deep queue costs nothing while slots are
        // full, and a page of jobs held back (by concurrency, say) does not block later ones.
        let free = slots.reduce(0) { $0 + max(0, $1.free) }
        let pageSize = max(8, free * 2)
        var pages = 0
        var after: Int64 = 0
        var runningByCommand = perCommand
        var remaining = slots
        while pages < 64 {
            guard let queued = try? store.jobs(JobQuery(statuses: [.queued], limit: pageSize, afterID: after, oldestFirst: true)),
                let last = queued.last
            else { break }
            after = last.id
            // Handed-back jobs wait out their backoff; the periodic pass comes back for them.
            let due = queued.filter { $0.notBefore <= now }
            for job in queued where job.notBefore > now { nextDeferred = min(nextDeferred ?? job.notBefore, job.notBefore) }
            let decisions = scheduler.plan(
                queued: due, running: runningByCommand, slots: remaining, configuration: snapshot.configuration,
                engine: snapshot.engine)
            for decision in decisions {
                switch decision {
                case .fail(let id, let reason):
                    complete(id, attempt: nil, JobOutcome(status: .failed, reason: reason))
                case .start(let id, let agentID):
                    guard let job = queued.first(where: { $0.id == id }) else { continue }
                    start(id, on: agentID, snapshot.configuration)
                    runningByCommand[job.command, default: 0] += 1
                    if let i = remaining.firstIndex(where: { $0.agent.id == agentID }) { remaining[i].free -= 1 }
                }
            }
            if !remaining.contains(where: { $0.free > 0 }) || queued.count < pageSize { break }
            pages += 1
        }
    }

    private func start(_ id: Int64, on agentID: String, _ configuration: Configuration) {
        guard let connected = agents[agentID] else { return }
        let now = clock()
        guard let job = try? store.start(id, agent: agentID, at: now), let spec = configuration.command(named: job.command)
        else { return }
        load?.started(job)
        if let parent = job.parentID { _ = try? store.start(parent, agent: "*", at: now) }
        // Secrets are opened only now, to dispatch; a job whose secrets are gone fails rather than
        // run with masked values.
        let kept: JobSecrets?
        do {
            kept = try store.secrets(of: id)
        } catch {
            logger.error("cannot open a job's secrets", metadata: ["job_id": "\(id)", "error": "\(error)"])
            complete(id, attempt: job.attempt, JobOutcome(status: .failed, reason: "its secret values could not be recovered (\(error)); run it again"))
            return
        }
        if let missing = Self.missingSecret(job, spec: spec, kept: kept) {
            complete(id, attempt: job.attempt, JobOutcome(status: .failed, reason: missing))
            return
        }
        var arguments = job.arguments
        arguments.merge(kept?.arguments ?? [:]) { _, real in real }
        var plan = ExecutionPlan(
            spec: spec, arguments: arguments, jobID: id, attempt: job.attempt, user: job.requester, twoFactorCode: kept?.code)
        plan.environment["MEESEEKS_AGENT_ID"] = agentID
        plan.outputLimit = configuration.settings.outputLimit
        record(AuditRecord(action: "job.started", user: job.requester, command: job.command, outcome: "running", jobID: id, detail: "on \(agentID)"))
        logger.info("job started", metadata: ["job_id": "\(id)", "agent": "\(agentID)", "attempt": "\(job.attempt)"])
        notifier.changed(id)
        do {
            try connected.link.dispatch(plan)
        } catch {
            // Later, not from inside this scheduling pass: a handed-back job dispatches again.
            Task { self.handBack(id, attempt: job.attempt, because: "\(error)") }
        }
    }

    /// Why a job cannot run as it was asked, when its secrets were not kept (a job queued before
    /// secrets were sealed, or a sealed value lost): nil when nothing is missing.
    static func missingSecret(_ job: Job, spec: CommandSpec, kept: JobSecrets?) -> String? {
        let masked = spec.arguments.filter { $0.secret && job.arguments[$0.name] == maskedValue && kept?.arguments[$0.name] == nil }
        if let first = masked.first {
            return "the value of its secret argument '\(first.name)' was not kept; run it again"
        }
        if spec.twoFactor, kept?.code == nil {
            return "its 2FA code was not kept; run it again"
        }
        return nil
    }

    /// A job the agent could not take goes back to the queue, to be dispatched again after a
    /// backoff that doubles with each hand-back (half a second up to 30 s): a draining agent
    /// that is the only candidate never makes it bounce at network speed.
    func handBack(_ id: Int64, attempt: Int, because reason: String) {
        logger.warning("job handed back", metadata: ["job_id": "\(id)", "reason": "\(reason)"])
        do {
            guard let job = try store.job(id) else { return }
            let handbacks = try store.handbacks(id)
            let delay = min(30, 0.5 * Double(1 << min(handbacks, 6)))
            let notBefore = clock() + delay
            guard try store.requeue(id, attempt: attempt, notBefore: notBefore) else { return }
            load?.ended(job)
            nextDeferred = min(nextDeferred ?? notBefore, notBefore)
            notifier.changed(id)
        } catch {
            logger.error("cannot hand a job back to the queue", metadata: ["job_id": "\(id)", "error": "\(error)"])
        }
    }

    /// Dispatches again when a handed-back job's backoff has passed. Called periodically.
    public func dispatchDeferred() {
        guard let due = nextDeferred, due <= clock() else { return }
        nextDeferred = nil
        dispatch()
    }
}

/// How many jobs run on each agent and of each command.
struct RunningLoad {
    var agents: [String: Int] = [:]
    var commands: [String: Int] = [:]

    init(_ running: [Job]) {
        for job in running { started(job) }
    }

    mutating func started(_ job: Job) {
        guard !job.isBroadcast, let agent = job.agent else { return }
        agents[agent, default: 0] += 1
        commands[job.command, default: 0] += 1
    }

    mutating func ended(_ job: Job) {
        guard !job.isBroadcast, let agent = job.agent else { return }
        agents[agent, default: 0] -= 1
        commands[job.command, default: 0] -= 1
    }
}
