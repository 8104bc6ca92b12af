import MeeseeksCore

/// The running jobs whose dialogs show their progress: each tick, every one gets a view of how
/// long it has run and the end of its output (a broadcast: each agent's state), which replaces
/// the dialog's message. Jobs leave when they end.
struct ProgressTracker {
    struct Watch {
        var dialog: Dialog
        var command: String
        /// Whether its message shows progress (then its last edit says how it ended).
        var shown = false
    }

    /// Seconds between edits of one job's message: well under Slack's limits for `chat.update`,
    /// and the outbox keeps only the newest edit waiting anyway.
    static let interval = 3
    /// Lines of output shown.
    static let lines = 12

    private(set) var watched: [Int64: Watch] = [:]

    mutating func watch(_ jobID: Int64, command: String, in dialog: Dialog) {
        watched[jobID] = Watch(dialog: dialog, command: command)
    }

    mutating func forget(_ jobID: Int64) {
        watched[jobID] = nil
    }

    mutating func shown(_ jobID: Int64) {
        watched[jobID]?.shown = true
    }

    /// The last edit of an ended job's message: how it ended, after how long.
    static func ended(_ job: Job) -> DialogView {
        let elapsed = Int(max(0, min(job.duration ?? 0, Double(Int32.max))))
        return .progress(.init(user: job.requester, command: job.command, jobID: job.id, elapsed: elapsed, tail: "", ended: job.status))
    }

    /// The view of one running job, or nil when it is not running (it ended or has not started).
    static func view(of job: Job, now: Double, history: any JobHistoryStore) throws -> DialogView? {
        guard job.status == .running, let started = job.startedAt else { return nil }
        var tail = ""
        var agents: [DialogView.Progress.AgentLine] = []
        if job.isBroadcast {
            agents = try history.jobs(JobQuery(parentID: job.id, limit: Int.max, oldestFirst: true)).map {
                .init(agent: $0.agent ?? "?", status: $0.status)
            }
        } else {
            let size = try history.outputSize(job.id)
            let text = String(decoding: try history.output(job.id, from: max(0, size - 2000), limit: 2000), as: UTF8.self)
            tail = text.split(separator: "\n", omittingEmptySubsequences: false).suffix(lines + 1).joined(separator: "\n")
        }
        let elapsed = Int(max(0, min(now - started, Double(Int32.max))))
        return .progress(.init(user: job.requester, command: job.command, jobID: job.id, elapsed: elapsed, tail: tail, agents: agents))
    }
}
