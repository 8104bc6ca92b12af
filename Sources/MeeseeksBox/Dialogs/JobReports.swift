import MeeseeksCore

/// A job's result as a dialog shows it: the end of its output, and one line per agent for a
/// broadcast.
struct JobReports: Sendable {
    let history: any JobHistoryStore
    /// Bytes of output a result message shows.
    static let tailBytes = 2500

    func report(_ job: Job, children: [Job]) -> JobReport {
        let (output, truncated) = children.isEmpty ? tail(job.id) : ("", false)
        let perAgent = children.map { child in
            JobReport.AgentResult(
                agent: child.agent ?? "?", jobID: child.id, status: child.status, exitCode: child.exitCode,
                output: String(tail(child.id).text.suffix(600)))
        }
        return JobReport(
            jobID: job.id, command: job.command, status: job.status, exitCode: job.exitCode, reason: job.reason,
            output: output, truncated: truncated, perAgent: perAgent)
    }

    /// The last bytes of a job's output, and whether more came before them. An unreadable
    /// output shows as a note, not as nothing.
    private func tail(_ id: Int64) -> (text: String, cut: Bool) {
        do {
            let size = try history.outputSize(id)
            let from = max(0, size - Self.tailBytes)
            return (String(decoding: try history.output(id, from: from, limit: Self.tailBytes), as: UTF8.self), from > 0)
        } catch {
            return ("(the output could not be read: \(error))", false)
        }
    }
}
