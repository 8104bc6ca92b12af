import MeeseeksCore

/// What an agent says about a job it was given, from the embedded agent or a remote one alike.
enum AgentReport: Sendable {
    case started
    /// Output at byte `offset` of the job's output; `isTail` for the tail sent with a result.
    case output(offset: Int, bytes: [UInt8], isTail: Bool)
    case finished(JobOutcome)
    case rejected(code: String, reason: String)
}

/// The one entrance for agents' reports: a report counts only when it is about a job this very
/// agent runs, in this attempt; output already received is skipped, and a gap is never joined
/// silently. Keeps, per running job, how much output has arrived.
struct ReportIntake {
    private var received: [Int64: Int] = [:]
    /// Jobs with output the store refused (a full disk): their end is not recorded until a tail
    /// sent with the result has been stored, so the agent keeps the result and its output.
    private var unstored: Set<Int64> = []
    /// Jobs whose next chunk may be stored past a gap the store made (it refused a write): live
    /// output goes on, with a marker, rather than waiting for the end.
    private var refusedGap: Set<Int64> = []

    /// Whether `agent` runs `id` in `attempt` now, by the dispatcher's running load.
    static func owns(_ load: RunningLoad, _ id: Int64, attempt: Int, agent: String) -> Bool {
        guard let entry = load.entry(id) else { return false }
        return entry.agent == agent && entry.attempt == attempt
    }

    /// The bytes of an output report still to store (a gap marker first, for a tail past a
    /// gap), or nil when there is nothing new. `stored` reads the size already stored, once per
    /// job.
    mutating func fresh(_ id: Int64, offset: Int, bytes: [UInt8], isTail: Bool, stored: () throws -> Int) rethrows -> [UInt8]? {
        let have = try received[id] ?? stored()
        let end = offset + bytes.count  // the transport checked it does not overflow
        guard end > have else {
            received[id] = have
            return nil
        }
        var fresh = Array(bytes.suffix(end - max(offset, have)))
        if offset > have {
            // Bytes the box never got (a reconnect after more than the agent keeps). A live chunk
            // waits for the tail, which comes with the result; the tail is kept with a marker.
            let afterRefusal = refusedGap.remove(id) != nil
            guard isTail || afterRefusal else {
                received[id] = have
                return nil
            }
            let why = afterRefusal ? "could not be stored" : "were lost while the agent was disconnected"
            fresh = Array("\n[… \(offset - have) bytes of output \(why) …]\n".utf8) + fresh
        }
        received[id] = end
        return fresh
    }

    /// The store refused output of `id`: what arrived is not what is stored, so the next report
    /// reads the stored size again, and the job's end waits for a stored tail.
    mutating func failedToStore(_ id: Int64) {
        received[id] = nil
        unstored.insert(id)
        refusedGap.insert(id)
    }

    /// A tail sent with the result is stored (or was already): nothing before it is missing.
    mutating func storedTail(_ id: Int64) {
        unstored.remove(id)
    }

    func missesOutput(_ id: Int64) -> Bool { unstored.contains(id) }

    mutating func forget(_ id: Int64) {
        received[id] = nil
        unstored.remove(id)
        refusedGap.remove(id)
    }
}
