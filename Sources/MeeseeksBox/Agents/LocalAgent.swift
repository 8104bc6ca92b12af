import Foundation
public import MeeseeksCore
public import MeeseeksExec
import MeeseeksLabels
import Synchronization

/// The agent embedded in `meeseeks serve` (labels `agent=local`), so one machine works alone.
/// It runs jobs with the same executor as `mrmeeseeks`.
public final class LocalAgent: AgentLink {
    public static let id = "local"
    let executor: JobExecutor
    let reporter: LocalReports
    public let slots: Int

    /// Its reports go through the orchestrator's one entrance for agents' reports, with the
    /// same checks as a remote agent's.
    public init(executor: JobExecutor, orchestrator: Orchestrator, slots: Int) {
        self.executor = executor
        self.reporter = LocalReports(orchestrator: orchestrator)
        self.slots = slots
    }

    public var record: AgentRecord {
        var record = AgentRecord(
            id: Self.id, hostname: ProcessInfo.processInfo.hostName, labels: ["agent": "local"], commands: ["*"],
            slots: slots, version: "embedded", connected: true, lastSeen: Date().timeIntervalSince1970)
        record.verifiesTwoFactor = executor.verifiesTwoFactor
        return record
    }

    public func dispatch(_ plan: ExecutionPlan) throws {
        let executor = executor
        let reporter = reporter
        // Owned by the local agent: the job outlives the dispatch call, as on a remote agent.
        Task.detached { await executor.run(plan, reportingTo: reporter) }
    }

    public func cancel(jobID: Int64, attempt: Int) async {
        await executor.cancel(jobID: jobID)
    }
}

/// The embedded agent's reports, as a remote agent would send them: each with the job's
/// attempt, output with its offset.
final class LocalReports: JobReporter {
    let orchestrator: Orchestrator
    /// Bytes reported so far per running job (the offset of the next chunk).
    private let offsets = Mutex<[Int64: Int]>([:])

    init(orchestrator: Orchestrator) {
        self.orchestrator = orchestrator
    }

    func jobStarted(_ id: Int64, attempt: Int) async {
        await orchestrator.report(.started, job: id, attempt: attempt, from: LocalAgent.id)
    }

    func jobOutput(_ id: Int64, attempt: Int, _ bytes: [UInt8]) async {
        let offset = offsets.withLock { offsets -> Int in
            let offset = offsets[id, default: 0]
            offsets[id] = offset + bytes.count
            return offset
        }
        await orchestrator.report(.output(offset: offset, bytes: bytes, isTail: false), job: id, attempt: attempt, from: LocalAgent.id)
    }

    func jobFinished(_ id: Int64, attempt: Int, _ outcome: JobOutcome) async {
        _ = offsets.withLock { $0.removeValue(forKey: id) }
        await orchestrator.report(.finished(outcome), job: id, attempt: attempt, from: LocalAgent.id)
    }

    func jobRefused(_ id: Int64, attempt: Int, code: String, reason: String) async {
        _ = offsets.withLock { $0.removeValue(forKey: id) }
        await orchestrator.report(.rejected(code: code, reason: reason), job: id, attempt: attempt, from: LocalAgent.id)
    }
}
