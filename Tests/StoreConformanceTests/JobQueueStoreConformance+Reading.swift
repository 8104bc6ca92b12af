import MeeseeksCore
import Testing

/// `JobQueueStore`: what the dispatcher reads (the queue in pages, the running jobs, the depth).
extension JobQueueStoreConformance {

    @Test("the queue is read oldest first, a page at a time, without broadcast parents", arguments: StoreFactory.all)
    func queuedPages(_ factory: StoreFactory) throws {
        let store = try factory.make()
        try store.add(job())  // 1
        _ = try store.insert(broadcast(), children: [job(agent: "a1"), job(agent: "a2")], secrets: nil)  // 2 (3, 4)
        try store.addRunning()  // 5
        try store.add(job())  // 6
        let ended = try store.add(job())  // 7
        _ = try store.finish(ended.id, attempt: nil, outcome: JobOutcome(status: .cancelled), at: 1)
        try store.add(job())  // 8
        #expect(try store.queued(after: 0, limit: 100).map(\.id) == [1, 3, 4, 6, 8])
        #expect(try store.queued(after: 0, limit: 2).map(\.id) == [1, 3])
        #expect(try store.queued(after: 3, limit: 2).map(\.id) == [4, 6])
        #expect(try store.queued(after: 6, limit: 2).map(\.id) == [8])
        #expect(try store.queued(after: 8, limit: 2).isEmpty)
        #expect(try store.queued(after: -5, limit: 1).map(\.id) == [1])
        #expect(try store.queued(after: 0, limit: 0).isEmpty)
        #expect(try store.queued(after: 0, limit: -1).isEmpty)
        #expect(try store.queued(after: 0, limit: Int.max).count == 5)
    }

    @Test(
        "a queued job carries its backoff: a new job has none, a handed-back one its notBefore",
        arguments: StoreFactory.all)
    func notBefore(_ factory: StoreFactory) throws {
        let store = try factory.make()
        let fresh = try store.add(job())
        var template = job()
        template.notBefore = 5000  // not a field an insert sets
        let other = try store.add(template)
        #expect(try store.job(fresh.id)?.notBefore == 0)
        #expect(try store.job(other.id)?.notBefore == 0)
        _ = try store.start(fresh.id, agent: "a1", at: 1001)
        #expect(try store.requeue(fresh.id, attempt: 1, notBefore: 1030.5))
        #expect(try store.queued(after: 0, limit: 10).map(\.notBefore) == [1030.5, 0])
        #expect(try store.job(fresh.id)?.notBefore == 1030.5)
    }

    @Test("every running job is listed, broadcast parents aside, with no row limit", arguments: StoreFactory.all)
    func runningJobs(_ factory: StoreFactory) throws {
        let store = try factory.make()
        #expect(try store.runningJobs().isEmpty)
        let (parent, children) = try store.insert(broadcast(), children: [job(agent: "a1")], secrets: nil)
        _ = try store.start(children[0].id, agent: "a1", at: 1)
        _ = try store.start(parent.id, agent: "*", at: 1)
        for _ in 0..<150 { try store.addRunning(job(), on: "a2", at: 2) }
        try store.add(job())
        let running = try store.runningJobs()
        #expect(running.count == 151)
        #expect(running.map(\.id) == running.map(\.id).sorted())
        #expect(running.first?.id == children[0].id)
        #expect(running.allSatisfy { $0.status == .running && !$0.isBroadcast })
    }

    @Test(
        "queue stats count jobs waiting to start (broadcast parents aside) and the oldest one's time",
        arguments: StoreFactory.all)
    func queueStats(_ factory: StoreFactory) throws {
        let store = try factory.make()
        let empty = try store.queueStats()
        #expect(empty.depth == 0 && empty.oldest == nil)
        try store.add(job(createdAt: 1200))
        let early = try store.add(job(createdAt: 1100))
        var parent = broadcast()
        parent.createdAt = 900
        _ = try store.insert(parent, children: [job(agent: "a1", createdAt: 1150)], secrets: nil)
        var stats = try store.queueStats()
        #expect(stats.depth == 3 && stats.oldest == 1100)
        _ = try store.start(early.id, agent: "a1", at: 1300)
        stats = try store.queueStats()
        #expect(stats.depth == 2 && stats.oldest == 1150)
        #expect(try store.requeue(early.id, attempt: 1, notBefore: 2000))
        stats = try store.queueStats()
        #expect(stats.depth == 3 && stats.oldest == 1100)  // a handed-back job waits too, however long
    }
}
