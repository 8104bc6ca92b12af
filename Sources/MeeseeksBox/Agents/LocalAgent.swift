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
    /// Bytes reported so far per running job (the offset of the next chunk), and the end of its
    /// output, sent again with the result as a remote agent's is (the box may have failed to
    /// store a chunk).
    private let outputs = Mutex<[Int64: (offset: Int, tail: [UInt8])]>([:])
    static let tailLimit = 64 * 1024

    init(orchestrator: Orchestrator) {
        self.orchestrator = orchestrator
    }

    func jobStarted(_ id: Int64, attempt: Int) async {
        await orchestrator.report(.started, job: id, attempt: attempt, from: LocalAgent.id)
    }

    func jobOutput(_ id: Int64, attempt: Int, _ bytes: [UInt8]) async {
        let offset = outputs.withLock { outputs -> Int in
            // In place, and trimmed only at twice the limit: a chunk costs its own size, not the tail's.
            let offset = outputs[id]?.offset ?? 0
            outputs[id, default: (0, [])].offset = offset + bytes.count
            outputs[id, default: (0, [])].tail.append(contentsOf: bytes)
            if let count = outputs[id]?.tail.count, count > 2 * Self.tailLimit {
                outputs[id, default: (0, [])].tail.removeFirst(count - Self.tailLimit)
            }
            return offset
        }
        await orchestrator.report(.output(offset: offset, bytes: bytes, isTail: false), job: id, attempt: attempt, from: LocalAgent.id)
    }

    func jobFinished(_ id: Int64, attempt: Int, _ outcome: JobOutcome) async {
        let output = outputs.withLock { $0.removeValue(forKey: id) }.map { ($0.offset, Array($0.tail.suffix(Self.tailLimit))) }
        // Kept until the box can record it, as a remote agent keeps its result: a store that
        // cannot write now (a full disk) must not leave the job running forever.
        var pause = Duration.milliseconds(100)
        while true {
            if let (offset, tail) = output, !tail.isEmpty {
                await orchestrator.report(
                    .output(offset: offset - tail.count, bytes: tail, isTail: true), job: id, attempt: attempt, from: LocalAgent.id)
            }
            if await orchestrator.finished(id, attempt: attempt, outcome: outcome, agent: LocalAgent.id) != .later { return }
            do {
                try await Task.sleep(for: pause)
            } catch {
                return  // cancelled: a job of the embedded agent left running is marked lost at the next start
            }
            pause = min(pause * 2, .seconds(5))
        }
    }

    func jobRefused(_ id: Int64, attempt: Int, code: String, reason: String) async {
        _ = outputs.withLock { $0.removeValue(forKey: id) }
        await orchestrator.report(.rejected(code: code, reason: reason), job: id, attempt: attempt, from: LocalAgent.id)
    }
}
