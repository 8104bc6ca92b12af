import Foundation
import Logging
public import MeeseeksConfig
public import MeeseeksCore
import Synchronization

/// The one orchestration point: every decision about jobs and agents is taken here, one at a
/// time, by parts that each keep their own state: the dispatcher (job state), the registry
/// (connected agents), the dialog runtime (conversations) and the audit trail. This actor only
/// passes what one part produces to the next; the store is the source of truth, so a restarted
/// box picks up where it stopped.
public actor Orchestrator {
    public let store: any BoxStore
    public let config: ConfigHolder
    let logger: Logger
    let clock: @Sendable () -> Double

    var dispatcher: JobDispatcher
    var registry: AgentRegistry
    var dialogs: DialogRuntime
    var intake = ReportIntake()
    var progress = ProgressTracker()
    /// The commands agents define themselves, and the generation last published in `config`.
    var catalog = CommandCatalog()
    var publishedCatalog: UInt64 = 0
    /// Connected agents with own commands in conflict, and how many (for the metric).
    var conflictCounts: [String: Int] = [:]
    /// Set when this box stopped leading: nothing more is taken from agents.
    var deposed = false
    /// The last credential revocation applied; older ones predate this orchestrator.
    var lastRevocation: Int64 = 0
    /// Approved jobs the store could not queue yet: queued again by the next sweep.
    var approvedUnreleased: Set<Int64> = []
    let audit: AuditTrail
    let builtins: BuiltinQueries
    /// The connected agents' links, readable outside the actor: a leader that must stop while a
    /// database call holds the actor still lets its agents go at once.
    nonisolated let liveLinks = LiveLinks()
    /// Followers of a job's output or state (`meeseeks logs --follow`, `meeseeks run`).
    public nonisolated let jobChanges = ChangeSignal<Int64>()
    public nonisolated let metrics = BoxMetrics()

    public init(
        store: any BoxStore, config: ConfigHolder, logger: Logger, epoch: UInt64 = 0,
        clock: @escaping @Sendable () -> Double = { Date().timeIntervalSince1970 }
    ) throws {
        self.store = store
        self.config = config
        self.logger = logger
        self.clock = clock
        let audit = AuditTrail(
            store: store, metrics: metrics, logger: logger, clock: clock,
            knows: { [config] in config.snapshot.configuration.command(named: $0) != nil })
        self.audit = audit
        dispatcher = try JobDispatcher(store: store, audit: audit, changes: jobChanges, metrics: metrics, logger: logger, clock: clock)
        dispatcher.epoch = epoch
        registry = AgentRegistry(startedAt: clock())
        dialogs = DialogRuntime(store: store, logger: logger, clock: clock)
        builtins = BuiltinQueries(history: store, audit: store)
        lastRevocation = try store.revokedCredentials(after: 0).newest
    }

    public func register(transport: any ChatTransport, kind: String) {
        dialogs.transports[kind] = transport
    }

    // MARK: Jobs

    /// Stores a request as a job (or a broadcast) and starts what can start.
    public func submit(_ request: JobRequest) throws -> Job {
        let (job, isNew) = try dispatcher.submit(request, spec: config.snapshot.configuration.command(named: request.command))
        if job.status != .awaitingApproval {
            dispatch()
        } else if isNew {
            announceApproval(job)
        }
        return job
    }

    /// Starts every queued job that can start now, and tells the dialogs of those that ended.
    func dispatch() {
        settle(dispatcher.dispatch(registry: registry, snapshot: config.snapshot))
    }

    /// Starts what can start (a new leader, once its agents may connect).
    public func dispatchAll() {
        dispatch()
    }

    /// Dispatches again when a handed-back job's backoff has passed. Called periodically.
    public func dispatchDeferred() {
        if dispatcher.deferredDue() { dispatch() }
    }

    /// Tells each ended job's dialog how it ended.
    func settle(_ ended: [EndedJob]) {
        for end in ended {
            if let watch = progress.watched[end.job.id], watch.shown {
                dialogs.render(ProgressTracker.ended(end.job), in: watch.dialog, replacing: true)
            }
            progress.forget(end.job.id)
            intake.forget(end.job.id)
            guard let dialogID = end.job.dialogID else { continue }
            metrics.dialogCompleted()
            handle(dialogID, DialogInput(.jobFinished(JobReports(history: store).report(end.job, children: end.children))))
        }
    }

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
        let job: Job
        let targets: [Job]
        do {
            guard let found = try store.job(id) else { throw CancelError.notFound(id) }
            job = found
            guard job.requester == user || asAdmin else { throw CancelError.notYours(id) }
            guard !job.status.isFinal else { throw CancelError.alreadyEnded(id, job.status) }
            targets = job.isBroadcast ? try store.jobs(JobQuery(parentID: id, limit: Int.max)) : [job]
        } catch let error as CancelError {
            throw error
        } catch {
            logger.error("cannot read a job to cancel", metadata: ["job_id": "\(id)", "error": "\(error)"])
            throw .notFound(id)
        }
        audit.record(
            AuditRecord(
                action: asAdmin && job.requester != user ? .jobKilled : .jobCancelRequested, user: user, command: job.command,
                outcome: "ok", jobID: id))
        if job.status == .awaitingApproval {
            // Nothing ran: the job (a broadcast with its sub-jobs) ends here, and its approvers see so.
            let ended = dispatcher.endUnapproved(id, JobOutcome(status: .cancelled, reason: "cancelled by \(user)"))
            if !ended.isEmpty { closeApprovalRequest(job, "Cancelled by \(user) before it ran.") }
            settle(ended)
        }
        for target in targets where !target.status.isFinal && job.status != .awaitingApproval {
            if target.status == .queued {
                settle(dispatcher.complete(target.id, attempt: nil, JobOutcome(status: .cancelled, reason: "cancelled by \(user)")))
            } else if let agent = target.agent, let link = registry.link(agent) {
                let attempt = target.attempt
                // The agent answers with the job's result once its process group is gone.
                Task { await link.cancel(jobID: target.id, attempt: attempt) }
            } else {
                settle(dispatcher.complete(target.id, attempt: nil, JobOutcome(status: .lost, reason: "its agent is gone")))
            }
        }
        do {
            return try store.job(id) ?? job
        } catch {
            return job
        }
    }

    /// The epoch of the lease this orchestrator works under (0 without leader election).
    public var epoch: UInt64 { dispatcher.epoch }

    // MARK: Shutdown

    /// Shutting down: queued jobs stay queued for the next start, nothing new is dispatched.
    public func stopAccepting() {
        dispatcher.accepting = false
    }

    /// This box no longer leads: it dispatches nothing more, lets its agents go (they reconnect
    /// to the new leader, with their results) and stops its embedded agent's jobs (the new
    /// leader records them lost).
    func stepDown() {
        deposed = true
        dispatcher.accepting = false
        cancelLocalJobs()
        for (_, connected) in registry.connected { connected.link.close() }
        liveLinks.closeAll()
    }

    /// Jobs running on the embedded agent.
    public func localRunningCount() -> Int {
        dispatcher.load.count(on: LocalAgent.id)
    }

    /// Cancels the embedded agent's running jobs (end of the grace period).
    public func cancelLocalJobs() {
        guard let link = registry.link(LocalAgent.id) else { return }
        for id in dispatcher.load.jobs(on: LocalAgent.id) {
            guard let attempt = dispatcher.load.entry(id)?.attempt else { continue }
            Task { await link.cancel(jobID: id, attempt: attempt) }
        }
    }
}

/// Agent links by agent id, behind a lock.
final class LiveLinks: Sendable {
    private let links = Mutex<[String: any AgentLink]>([:])

    func set(_ id: String, _ link: (any AgentLink)?) {
        links.withLock { $0[id] = link }
    }

    /// Ends every connection: each agent reconnects, to whichever box leads.
    func closeAll() {
        for link in links.withLock({ links in
            defer { links = [:] }
            return Array(links.values)
        }) { link.close() }
    }
}
