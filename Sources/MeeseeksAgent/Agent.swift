import Foundation
public import Logging
import MeeseeksConfig
public import MeeseeksCore
import MeeseeksExec
import MeeseeksGRPC
import Metrics
import SwiftProtobuf

/// The state of one `mrmeeseeks`: the jobs it runs, what it owes the box, and the current
/// connection (if any). Jobs outlive connections: output and results wait for the next one.
public actor Agent: JobReporter {
    public struct Options: Sendable {
        public var id: String
        public var hostname: String
        public var labels: [String: String]
        public var commands: [String]
        public var slots: Int
        public var version: String
        /// Started with its own commands and no `--commands`: it takes none of the box's.
        public var ownCommandsOnly = false
        /// It holds 2FA secrets (the box routes two-factor commands only to such agents).
        public var verifiesTwoFactor = false

        public init(id: String, hostname: String, labels: [String: String], commands: [String], slots: Int, version: String) {
            self.id = id
            self.hostname = hostname
            self.labels = labels
            self.commands = commands
            self.slots = slots
            self.version = version
        }
    }

    struct Running {
        var plan: ExecutionPlan
        /// The last bytes of output, kept to resend after a reconnect.
        var buffer: [UInt8] = []
        var bufferStart = 0
        var produced = 0
        /// Whether every chunk went out on a live connection.
        var continuous = true
        var started = Date()
    }

    let options: Options
    let executor: JobExecutor
    let ledger: ResultLedger
    let logger: Logger
    var running: [Int64: Running] = [:]
    /// Its own commands (`--config`); replaced whole on SIGHUP.
    var own: OwnCommands
    var outbound: BoundedChannel<Meeseeks_Agent_V1_AgentMessage>?
    var draining = false
    /// The newest leader epoch seen: a job from an older one comes from a deposed leader.
    var highestEpoch: UInt64 = 0
    /// Output kept per job for resending after a reconnect.
    let bufferLimit = 1 << 20
    /// Bytes of output a result carries when every chunk seemed to go through.
    static let resultTail = 64 << 10
    /// Bytes of messages queued for the box at most; jobs' output waits beyond it.
    static let outboundCapacity = 1 << 20

    /// A connection's queue of messages to the box: bounded, so output produced faster than the
    /// network takes it slows the job down instead of filling memory.
    static func makeOutbound() -> BoundedChannel<Meeseeks_Agent_V1_AgentMessage> {
        BoundedChannel(capacity: outboundCapacity) { message in
            switch message.kind {
            case .output(let output): 64 + output.data.count
            case .result(let result): 64 + result.outputTail.count
            default: 64
            }
        }
    }

    init(options: Options, own: OwnCommands = OwnCommands(), executor: JobExecutor, ledger: ResultLedger, logger: Logger) {
        self.options = options
        self.own = own
        self.executor = executor
        self.ledger = ledger
        self.logger = logger
    }

    var busy: Int { running.count }

    // MARK: Connection

    /// The registration for a new connection: who we are and what we still hold.
    func registration(token: String) -> Meeseeks_Agent_V1_AgentMessage {
        var register = Meeseeks_Agent_V1_Register()
        register.token = token
        register.agentID = options.id
        register.hostname = options.hostname
        register.labels = options.labels
        register.commands = options.commands
        register.slots = Int32(options.slots)
        register.version = options.version
        register.definitions = own.definitions
        register.ownCommandsOnly = options.ownCommandsOnly
        register.verifiesTwoFactor = options.verifiesTwoFactor
        let held =
            running.values.map { JobRef(jobID: $0.plan.jobID, attempt: $0.plan.attempt) }
            + ledger.pending().map { JobRef(jobID: $0.jobID, attempt: Int($0.attempt)) }
        register.running = held.map { ref in
            .with {
                $0.jobID = ref.jobID
                $0.attempt = Int32(ref.attempt)
            }
        }
        return .with { $0.register = register }
    }

    /// A connection is up: from now on messages go to `channel`. Output the box may have missed
    /// and results it has not acknowledged go first; live output follows only once they are
    /// queued, so nothing overtakes them (what jobs print meanwhile is sent in a last round).
    func attach(_ channel: BoundedChannel<Meeseeks_Agent_V1_AgentMessage>, epoch: UInt64) async {
        highestEpoch = max(highestEpoch, epoch)
        for id in running.keys { running[id]?.continuous = false }
        var sentUpTo: [Int64: Int] = [:]
        for result in ledger.pending() { await channel.send(.with { $0.result = result }) }
        while true {
            // Each round sends what each job printed since the last; the round that finds
            // nothing new attaches, with no suspension in between.
            let due = running.compactMap { id, job -> Meeseeks_Agent_V1_AgentMessage? in
                let from = max(job.bufferStart, sentUpTo[id] ?? job.bufferStart)
                guard from < job.produced else { return nil }
                sentUpTo[id] = job.produced
                return .with {
                    $0.output = .with { o in
                        o.jobID = id
                        o.attempt = Int32(job.plan.attempt)
                        o.offset = UInt64(from)
                        o.data = Data(job.buffer[(from - job.bufferStart)...])
                    }
                }
            }
            if due.isEmpty { break }
            for message in due { await channel.send(message) }
        }
        outbound = channel
    }

    func detach() {
        outbound?.finish()
        outbound = nil
        for id in running.keys { running[id]?.continuous = false }
    }

    /// Sends on the current connection, waiting while its queue is full; false without one.
    @discardableResult
    private func send(_ message: Meeseeks_Agent_V1_AgentMessage) async -> Bool {
        guard let outbound else { return false }
        return await outbound.send(message)
    }

    // MARK: Messages from the box

    func received(_ message: Meeseeks_Agent_V1_BoxMessage) async {
        switch message.kind {
        case .job(let assignment): await take(assignment.plan)
        case .cancel(let cancel):
            let executor = executor
            Task { await executor.cancel(jobID: cancel.jobID) }
        case .ack(let ack):
            ledger.forget(jobID: ack.jobID, attempt: ack.attempt)
        case .registered, .pace, nil:
            break  // taken by the connection
        }
    }

    /// Whether it takes a job of the box's command `command`: never one of its own names.
    func accepts(_ command: String) -> Bool {
        if options.ownCommandsOnly { return false }
        return options.commands.isEmpty || options.commands.contains { Glob.matches($0, command) }
    }

    /// New own commands (SIGHUP): running jobs keep the definition they started with; the box
    /// learns the new set at once.
    func replaceOwnCommands(_ commands: OwnCommands) async {
        own = commands
        await send(.with { $0.catalog = .with { $0.definitions = commands.definitions } })
    }

    private func take(_ job: ExecutionPlan) async {
        var plan = job
        func reject(_ code: String, _ reason: String) async {
            logger.info("job rejected", metadata: ["job_id": "\(plan.jobID)", "code": "\(code)", "reason": "\(reason)"])
            await send(
                .with {
                    $0.rejected = .with { r in
                        r.jobID = plan.jobID
                        r.attempt = Int32(plan.attempt)
                        r.code = code
                        r.reason = reason
                    }
                })
        }
        if running[plan.jobID] != nil { return }  // a repeated assignment: already running
        if plan.epoch < highestEpoch {
            return await reject(
                "stale_epoch", "agent \(options.id) has seen leader epoch \(highestEpoch); this job comes from epoch \(plan.epoch)")
        }
        highestEpoch = plan.epoch
        if draining { return await reject("shutting_down", "agent \(options.id) is shutting down") }
        if own.commands[plan.command] != nil || plan.agentOwned {
            do {
                plan = try own.plan(for: job, agentID: options.id)
            } catch {
                MetricCache.counter("meeseeks_agent_refusals_total", [("code", error.code)]).increment()
                return await reject(error.code, error.reason)
            }
        } else if !accepts(plan.command) {
            let why = options.ownCommandsOnly ? "it runs only its own commands" : "its --commands"
            return await reject("not_accepted", "agent \(options.id) does not accept '\(plan.command)' (\(why))")
        }
        guard (1...Int(Int32.max)).contains(plan.timeout), plan.outputLimit >= 0 else {
            return await reject(
                "invalid", "agent \(options.id) refuses a job with a timeout of \(plan.timeout)s or a negative output limit")
        }
        guard running.count < options.slots else { return await reject("busy", "agent \(options.id) has no free slot") }
        running[plan.jobID] = Running(plan: plan)
        MetricCache.gauge("meeseeks_agent_jobs_running").record(running.count)
        logger.info("job started", metadata: ["job_id": "\(plan.jobID)", "command": "\(plan.command)", "attempt": "\(plan.attempt)"])
        let executor = executor
        // Owned by the agent: the job runs on whatever connection comes and goes meanwhile.
        Task { await executor.run(plan, reportingTo: self) }
    }

    // MARK: JobReporter

    public func jobStarted(_ id: Int64, attempt: Int) async {
        await send(
            .with {
                $0.started = .with { s in
                    s.jobID = id
                    s.attempt = Int32(attempt)
                }
            })
    }

    public func jobRefused(_ id: Int64, attempt: Int, code: String, reason: String) async {
        guard running.removeValue(forKey: id) != nil else { return }
        MetricCache.gauge("meeseeks_agent_jobs_running").record(running.count)
        MetricCache.counter("meeseeks_agent_refusals_total", [("code", code)]).increment()
        logger.notice("job refused", metadata: ["job_id": "\(id)", "code": "\(code)", "reason": "\(reason)"])
        await send(
            .with {
                $0.rejected = .with { r in
                    r.jobID = id
                    r.attempt = Int32(attempt)
                    r.code = code
                    r.reason = reason
                }
            })
    }

    public func jobOutput(_ id: Int64, attempt: Int, _ bytes: [UInt8]) async {
        guard let offset = running[id]?.produced else { return }
        // Changed in place (no copy of the window per chunk). The resend window keeps the last
        // `bufferLimit` bytes, compacted only once it is twice that: each byte moves at most once.
        running[id]?.produced += bytes.count
        running[id]?.buffer += bytes
        if let size = running[id]?.buffer.count, size > 2 * bufferLimit {
            running[id]?.buffer.removeFirst(size - bufferLimit)
            running[id]?.bufferStart += size - bufferLimit
        }
        let sent = await send(
            .with {
                $0.output = .with { o in
                    o.jobID = id
                    o.attempt = Int32(attempt)
                    o.offset = UInt64(offset)
                    o.data = Data(bytes)
                }
            })
        if !sent { running[id]?.continuous = false }
    }

    public func jobFinished(_ id: Int64, attempt: Int, _ outcome: JobOutcome) async {
        guard let job = running.removeValue(forKey: id) else { return }
        MetricCache.gauge("meeseeks_agent_jobs_running").record(running.count)
        MetricCache.counter("meeseeks_agent_jobs_total", [("status", outcome.status.rawValue)]).increment()
        var result = Meeseeks_Agent_V1_JobResult(
            jobID: id, attempt: attempt, outcome: outcome, duration: Date().timeIntervalSince(job.started))
        // The end of the output travels with the result (the box skips what it has): output sent
        // into a connection that was dead without saying so (a pulled cable) would otherwise be
        // lost with it. All that is kept when a send is known to have failed; the last 64 KiB
        // otherwise, so results stay small.
        let tail = job.continuous ? min(job.buffer.count, Self.resultTail) : job.buffer.count
        result.outputOffset = UInt64(job.bufferStart + job.buffer.count - tail)
        result.outputTail = Data(job.buffer.suffix(tail))
        do {
            try ledger.keep(result)
        } catch {
            logger.error("cannot keep a result on disk", metadata: ["job_id": "\(id)", "error": "\(error)"])
        }
        logger.info("job finished", metadata: ["job_id": "\(id)", "status": "\(outcome.status.rawValue)"])
        await send(.with { $0.result = result })
    }

    // MARK: Shutdown

    /// Stops taking jobs; lets running ones finish for `grace` seconds, then cancels the rest.
    func drain(grace: Double) async {
        draining = true
        let deadline = Date().addingTimeInterval(grace)
        while !running.isEmpty, Date() < deadline { try? await Task.sleep(for: .milliseconds(100)) }
        for id in running.keys { await executor.cancel(jobID: id) }
        while !running.isEmpty { try? await Task.sleep(for: .milliseconds(100)) }
    }

    var hasUnacknowledgedResults: Bool { !ledger.isEmpty }
}
