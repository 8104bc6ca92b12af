import Foundation
public import MeeseeksCore
public import MeeseeksExec
import MeeseeksLabels

/// The agent embedded in `meeseeks serve` (labels `agent=local`), so one machine works alone.
/// It runs jobs with the same executor as `mrmeeseeks`.
public final class LocalAgent: AgentLink {
    public static let id = "local"
    let executor: JobExecutor
    let reporter: any JobReporter
    public let slots: Int

    public init(executor: JobExecutor, reporter: any JobReporter, slots: Int) {
        self.executor = executor
        self.reporter = reporter
        self.slots = slots
    }

    public var record: AgentRecord {
        AgentRecord(
            id: Self.id, hostname: ProcessInfo.processInfo.hostName, labels: ["agent": "local"], commands: ["*"],
            slots: slots, version: "embedded", connected: true, lastSeen: Date().timeIntervalSince1970)
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
