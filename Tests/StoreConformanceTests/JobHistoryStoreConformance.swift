import MeeseeksCore
import Testing

/// `JobHistoryStore`: listing jobs with `JobQuery`.
@Suite("JobHistoryStore conformance", .closesStores)
struct JobHistoryStoreConformance {

    /// 1 U1 queued · 2 U2 broadcast (queued) with 3 (a1, queued) and 4 (a2, running) · 5 U1 running ·
    /// 6 U1 succeeded · 7 U3 cancelled.
    func history(_ factory: StoreFactory) throws -> any BoxStore {
        let store = try factory.make()
        try store.add(job(requester: "U1"))
        let (_, children) = try store.insert(
            broadcast(requester: "U2"),
            children: [job(requester: "U2", agent: "a1"), job(requester: "U2", agent: "a2")],
            secrets: nil)
        _ = try store.start(children[1].id, agent: "a2", at: 1001)
        try store.addRunning(job(requester: "U1"))
        let done = try store.addRunning(job(requester: "U1"))
        _ = try store.finish(done.id, attempt: 1, outcome: JobOutcome(status: .succeeded, exitCode: 0), at: 1002)
        let cancelled = try store.add(job(requester: "U3"))
        _ = try store.finish(cancelled.id, attempt: nil, outcome: JobOutcome(status: .cancelled), at: 1003)
        return store
    }

    static let queries: [(JobQuery, [Int64])] = [
        (JobQuery(), [7, 6, 5, 4, 3, 2, 1]),
        (JobQuery(oldestFirst: true), [1, 2, 3, 4, 5, 6, 7]),
        (JobQuery(requester: "U1"), [6, 5, 1]),
        (JobQuery(requester: "nobody"), []),
        (JobQuery(statuses: [.queued]), [3, 2, 1]),
        (JobQuery(statuses: [.running, .succeeded]), [6, 5, 4]),
        (JobQuery(statuses: [.cancelled, .failed, .lost]), [7]),
        (JobQuery(statuses: []), []),
        (JobQuery(parentID: 2), [4, 3]),
        (JobQuery(parentID: 2, oldestFirst: true), [3, 4]),
        (JobQuery(parentID: 1), []),
        (JobQuery(topLevelOnly: true), [7, 6, 5, 2, 1]),
        (JobQuery(parentID: 2, topLevelOnly: true), []),
        (JobQuery(afterID: 3), [7, 6, 5, 4]),
        (JobQuery(afterID: 3, oldestFirst: true), [4, 5, 6, 7]),
        (JobQuery(limit: 2, afterID: 3, oldestFirst: true), [4, 5]),
        (JobQuery(afterID: 7), []),
        (JobQuery(afterID: -1), [7, 6, 5, 4, 3, 2, 1]),
        (JobQuery(limit: 2), [7, 6]),
        (JobQuery(limit: 0), []),
        (JobQuery(limit: Int.max), [7, 6, 5, 4, 3, 2, 1]),
        (JobQuery(requester: "U1", statuses: [.queued, .running], topLevelOnly: true), [5, 1]),
        (JobQuery(requester: "U2", statuses: [.queued], parentID: 2), [3]),
        (JobQuery(requester: "U1", limit: 1, afterID: 1, oldestFirst: true), [5]),
    ]

    @Test(
        "job listings filter by requester, status, parent and id, newest or oldest first, up to a limit",
        arguments: StoreFactory.all)
    func jobsQuery(_ factory: StoreFactory) throws {
        let store = try history(factory)
        for (query, expected) in Self.queries {
            #expect(try store.jobs(query).map(\.id) == expected, "\(query)")
        }
    }

    @Test("listed jobs are whole: the same values job(id) reads", arguments: StoreFactory.all)
    func listedJobsAreWhole(_ factory: StoreFactory) throws {
        let store = try history(factory)
        for listed in try store.jobs(JobQuery(limit: Int.max)) {
            #expect(try store.job(listed.id) == listed)
        }
        #expect(try store.job(0) == nil)
        #expect(try store.job(8) == nil)
    }
}
