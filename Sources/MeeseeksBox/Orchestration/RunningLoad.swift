import MeeseeksCore

/// The jobs running now, by agent and by command: kept in step with the store by the dispatcher
/// (the only code that changes job states), read from the store once at start. Scheduling,
/// reaping and report checks ask it instead of querying the store.
struct RunningLoad {
    struct Entry: Hashable {
        var agent: String
        var attempt: Int
        var command: String
    }

    private(set) var jobs: [Int64: Entry] = [:]
    private var byAgent: [String: Set<Int64>] = [:]
    private(set) var byCommand: [String: Int] = [:]

    init(_ running: [Job] = []) {
        for job in running { started(job) }
    }

    mutating func started(_ job: Job) {
        guard !job.isBroadcast, let agent = job.agent, jobs[job.id] == nil else { return }
        jobs[job.id] = Entry(agent: agent, attempt: job.attempt, command: job.command)
        byAgent[agent, default: []].insert(job.id)
        byCommand[job.command, default: 0] += 1
    }

    mutating func ended(_ id: Int64) {
        guard let entry = jobs.removeValue(forKey: id) else { return }
        byAgent[entry.agent]?.remove(id)
        if byAgent[entry.agent]?.isEmpty == true { byAgent[entry.agent] = nil }
        byCommand[entry.command, default: 0] -= 1
        if byCommand[entry.command] == 0 { byCommand[entry.command] = nil }
    }

    func count(on agent: String) -> Int { byAgent[agent]?.count ?? 0 }
    func jobs(on agent: String) -> [Int64] { byAgent[agent].map { $0.sorted() } ?? [] }
    /// Agents that run something now.
    var agents: [String] { Array(byAgent.keys) }
    func entry(_ id: Int64) -> Entry? { jobs[id] }
}
