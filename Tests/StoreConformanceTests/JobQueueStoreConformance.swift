import MeeseeksCore
import Testing

/// `JobQueueStore`: inserting, and the attempt rules of start, finish, requeue and confirmation.
@Suite("JobQueueStore conformance", .closesStores)
struct JobQueueStoreConformance {

    @Test("a new store numbers jobs from 1; a job reads back as it was stored", arguments: StoreFactory.all)
    func insertOne(_ factory: StoreFactory) throws {
        let store = try factory.make()
        let template = Job(
            command: "deploy", arguments: ["env": "stg", "note": "a \"quoted\" value, ü, {}"], requester: "U1",
            channel: "C1",
            selector: "env=stg", createdAt: 1000.25, dialogID: "d1")
        let (stored, children) = try store.insert(template, children: [], secrets: nil)
        var expected = template
        expected.id = 1
        #expect(stored == expected && children.isEmpty)
        #expect(try store.job(1) == expected)
        #expect(try store.add(job()).id == 2)
        #expect(try store.job(3) == nil)
    }

    @Test(
        "a broadcast is stored with its children, which point at it and keep their agents", arguments: StoreFactory.all)
    func insertBroadcast(_ factory: StoreFactory) throws {
        let store = try factory.make()
        let (parent, children) = try store.insert(
            broadcast(), children: [job(agent: "a1"), job(agent: "a2")], secrets: nil)
        #expect(parent.id == 1 && parent.isBroadcast)
        #expect(children.map(\.id) == [2, 3])
        #expect(children.map(\.parentID) == [1, 1])
        #expect(children.map(\.agent) == ["a1", "a2"])
        #expect(try store.job(1)?.isBroadcast == true)
        #expect(try store.job(1)?.parentID == nil)
        #expect(try [2, 3].map { try store.job($0)?.parentID } == [1, 1])
        #expect(try [2, 3].map { try store.job($0)?.agent } == ["a1", "a2"])
        #expect(try store.add(job()).id == 4)
    }

    @Test("an insert that fails stores nothing", arguments: StoreFactory.all)
    func insertIsAtomic(_ factory: StoreFactory) throws {
        let database = try factory.makeDatabase()
        let store = try database.open()
        var orphan = job()
        orphan.parentID = 99
        #expect(throws: (any Error).self) { try store.insert(orphan, children: [job()], secrets: nil) }
        let keyless = try database.open(sealer: nil)
        #expect(throws: SealError.self) {
            try keyless.insert(broadcast(), children: [job()], secrets: JobSecrets(code: "1"))
        }
        #expect(try store.jobs(JobQuery()).isEmpty)
        let next = try store.add(job())
        #expect(try store.jobs(JobQuery()).map(\.id) == [next.id])
    }

    @Test("a job starts only from queued, with a new attempt each time", arguments: StoreFactory.all)
    func start(_ factory: StoreFactory) throws {
        let store = try factory.make()
        let queued = try store.add(job())
        let started = try #require(try store.start(queued.id, agent: "a1", at: 1001))
        #expect(started.status == .running && started.attempt == 1 && started.agent == "a1")
        #expect(started.startedAt == 1001 && started.confirmed == false)
        #expect(try store.job(queued.id) == started)
        #expect(try store.start(queued.id, agent: "a2", at: 1002) == nil)  // running, not queued
        #expect(try store.job(queued.id)?.agent == "a1")
        #expect(try store.start(99, agent: "a1", at: 1002) == nil)  // no such job
        #expect(try store.requeue(queued.id, attempt: 1, notBefore: 0))
        #expect(try store.start(queued.id, agent: "a2", at: 1003)?.attempt == 2)
        _ = try store.finish(queued.id, attempt: 2, outcome: JobOutcome(status: .succeeded, exitCode: 0), at: 1004)
        #expect(try store.start(queued.id, agent: "a1", at: 1005) == nil)  // ended
    }

    @Test("a broadcast parent starts like a job (the dispatcher marks it running on '*')", arguments: StoreFactory.all)
    func startBroadcastParent(_ factory: StoreFactory) throws {
        let store = try factory.make()
        let (parent, children) = try store.insert(broadcast(), children: [job(agent: "a1")], secrets: nil)
        #expect(try store.start(children[0].id, agent: "a1", at: 1)?.agent == "a1")
        #expect(try store.start(parent.id, agent: "*", at: 1)?.status == .running)
        #expect(try store.start(parent.id, agent: "*", at: 2) == nil)
    }

    @Test(
        "a job ends once: a stale attempt, a repeated result or an unknown job change nothing",
        arguments: StoreFactory.all)
    func finish(_ factory: StoreFactory) throws {
        let store = try factory.make()
        let running = try store.addRunning(job(), on: "a1", at: 1001)
        let ok = JobOutcome(status: .succeeded, exitCode: 0, signal: 15, reason: "fine")
        #expect(try store.finish(running.id, attempt: 2, outcome: ok, at: 1003) == nil)  // not this attempt
        #expect(try store.job(running.id)?.status == .running)
        let done = try #require(try store.finish(running.id, attempt: 1, outcome: ok, at: 1003))
        #expect(done.status == .succeeded && done.exitCode == 0 && done.reason == "fine")
        #expect(done.finishedAt == 1003 && done.duration == 2 && done.agent == "a1" && done.attempt == 1)
        #expect(try store.job(running.id) == done)
        #expect(try store.finish(running.id, attempt: 1, outcome: JobOutcome(status: .failed), at: 1004) == nil)
        #expect(try store.finish(running.id, attempt: nil, outcome: JobOutcome(status: .lost), at: 1004) == nil)
        #expect(try store.job(running.id) == done)
        #expect(try store.finish(99, attempt: nil, outcome: ok, at: 1004) == nil)
    }

    @Test("without an attempt, a queued or running job is ended (cancelled, lost)", arguments: StoreFactory.all)
    func finishWithoutAttempt(_ factory: StoreFactory) throws {
        let store = try factory.make()
        let queued = try store.add(job())
        let cancelled = try #require(
            try store.finish(
                queued.id, attempt: nil, outcome: JobOutcome(status: .cancelled, reason: "cancelled by U1"), at: 1002))
        #expect(cancelled.status == .cancelled && cancelled.startedAt == nil && cancelled.finishedAt == 1002)
        #expect(cancelled.reason == "cancelled by U1" && cancelled.exitCode == nil && cancelled.attempt == 0)
        let running = try store.addRunning()
        #expect(
            try store.finish(
                running.id, attempt: nil, outcome: JobOutcome(status: .lost, reason: "agent gone"), at: 1005)?.status
                == .lost)
    }

    @Test(
        "only the running attempt is queued again: agent released, backoff kept, attempt number kept",
        arguments: StoreFactory.all)
    func requeue(_ factory: StoreFactory) throws {
        let store = try factory.make()
        let queued = try store.add(job())
        #expect(try !store.requeue(queued.id, attempt: 0, notBefore: 0))  // not running
        _ = try store.start(queued.id, agent: "a1", at: 1001)
        #expect(try store.confirmStarted(queued.id, attempt: 1))
        #expect(try !store.requeue(queued.id, attempt: 2, notBefore: 0))  // not this attempt
        #expect(try store.requeue(queued.id, attempt: 1, notBefore: 1050))
        let back = try #require(try store.job(queued.id))
        #expect(back.status == .queued && back.agent == nil && back.startedAt == nil)
        #expect(back.notBefore == 1050 && back.confirmed == false && back.attempt == 1)
        #expect(try !store.requeue(queued.id, attempt: 1, notBefore: 0))  // queued already
        #expect(try !store.requeue(99, attempt: 1, notBefore: 0))
        let finished = try store.addRunning()
        _ = try store.finish(finished.id, attempt: 1, outcome: JobOutcome(status: .failed), at: 1002)
        #expect(try !store.requeue(finished.id, attempt: 1, notBefore: 0))
    }

    @Test("a broadcast's child handed back stays pinned to its agent", arguments: StoreFactory.all)
    func requeueChild(_ factory: StoreFactory) throws {
        let store = try factory.make()
        let (_, children) = try store.insert(broadcast(), children: [job(agent: "a1"), job(agent: "a2")], secrets: nil)
        _ = try store.start(children[0].id, agent: "a1", at: 1001)
        #expect(try store.requeue(children[0].id, attempt: 1, notBefore: 0))
        #expect(try store.job(children[0].id)?.agent == "a1")
        #expect(try store.job(children[0].id)?.status == .queued)
        #expect(try store.requeue(children[0].id, attempt: 1, notBefore: 0) == false)
    }

    @Test("hand-backs are counted per job; an unknown job has none", arguments: StoreFactory.all)
    func handbacks(_ factory: StoreFactory) throws {
        let store = try factory.make()
        let one = try store.add(job())
        let other = try store.add(job())
        #expect(try store.handbacks(one.id) == 0)
        for attempt in 1...3 {
            _ = try store.start(one.id, agent: "a1", at: 1000)
            #expect(try store.requeue(one.id, attempt: attempt, notBefore: 0))
        }
        _ = try store.start(one.id, agent: "a1", at: 1000)
        #expect(try !store.requeue(one.id, attempt: 1, notBefore: 0))  // refused: not counted
        #expect(try store.handbacks(one.id) == 3)
        #expect(try store.handbacks(other.id) == 0)
        #expect(try store.handbacks(99) == 0)
    }

    @Test("a start is confirmed once, for the running attempt only", arguments: StoreFactory.all)
    func confirmStarted(_ factory: StoreFactory) throws {
        let store = try factory.make()
        let queued = try store.add(job())
        #expect(try !store.confirmStarted(queued.id, attempt: 0))  // queued
        _ = try store.start(queued.id, agent: "a1", at: 1)
        #expect(try !store.confirmStarted(queued.id, attempt: 2))
        #expect(try store.job(queued.id)?.confirmed == false)
        #expect(try store.confirmStarted(queued.id, attempt: 1))
        #expect(try store.job(queued.id)?.confirmed == true)
        #expect(try !store.confirmStarted(queued.id, attempt: 1))  // once
        _ = try store.requeue(queued.id, attempt: 1, notBefore: 0)
        #expect(try !store.confirmStarted(queued.id, attempt: 1))  // queued again
        #expect(try store.start(queued.id, agent: "a1", at: 2)?.confirmed == false)
        #expect(try store.confirmStarted(queued.id, attempt: 2))
        _ = try store.finish(queued.id, attempt: 2, outcome: JobOutcome(status: .succeeded), at: 3)
        #expect(try !store.confirmStarted(queued.id, attempt: 2))  // ended
        #expect(try !store.confirmStarted(99, attempt: 1))
    }

    @Test("concurrent writers get distinct ids, and one start of a job wins", arguments: StoreFactory.all)
    func concurrentWriters(_ factory: StoreFactory) async throws {
        let store = try factory.make()
        let ids = try await withThrowingTaskGroup(of: Int64.self) { group in
            for i in 0..<40 { group.addTask { try store.add(job(requester: "U\(i)")).id } }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        #expect(Set(ids).count == 40 && ids.min() == 1 && ids.max() == 40)
        let winners = try await withThrowingTaskGroup(of: Bool.self) { group in
            for i in 0..<20 { group.addTask { try store.start(1, agent: "a\(i)", at: 1) != nil } }
            return try await group.reduce(0) { $0 + ($1 ? 1 : 0) }
        }
        #expect(winners == 1)
        #expect(try store.job(1)?.attempt == 1)
    }

    @Test("a job's origin is stored once: the same request carried out again returns the first job", arguments: StoreFactory.all)
    func originOnce(_ factory: StoreFactory) throws {
        let store = try factory.make()
        var job = Job(command: "hello", arguments: [:], requester: "U1", createdAt: 1)
        job.origin = "inbox:7"
        let (first, _) = try store.insert(job, children: [], secrets: nil)
        let (again, _) = try store.insert(job, children: [], secrets: nil)
        #expect(again.id == first.id)
        #expect(try store.jobs(JobQuery(limit: 10)).count == 1)
        var broadcast = job
        broadcast.origin = "inbox:8"
        broadcast.isBroadcast = true
        let child = Job(command: "hello", arguments: [:], requester: "U1", agent: "a1", createdAt: 1)
        let (parent, children) = try store.insert(broadcast, children: [child], secrets: nil)
        let (parentAgain, childrenAgain) = try store.insert(broadcast, children: [child], secrets: nil)
        #expect(parentAgain.id == parent.id && childrenAgain.map(\.id) == children.map(\.id))
        #expect(try store.job(children[0].id)?.origin == nil)
    }
}
