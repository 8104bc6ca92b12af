import Dispatch
import Foundation
import MeeseeksCore
import Synchronization
import Testing

@testable import MeeseeksPostgres

/// Values appended from several threads or tasks.
final class Collected<T: Sendable>: Sendable {
    private let items = Mutex<[T]>([])
    func append(_ item: T) { items.withLock { $0.append(item) } }
    var all: [T] { items.withLock { $0 } }
}

/// Runs `body` on `count` threads at once and returns what each returned, in order. Threads of
/// their own: blocking the dispatch queues the tests run on could starve them.
func concurrently<T: Sendable>(_ count: Int, _ body: @escaping @Sendable (Int) throws -> T) -> [Result<T, any Error>] {
    let results = Collected<(Int, Result<T, any Error>)>()
    let finished = DispatchSemaphore(value: 0)
    for index in 0..<count {
        Thread.detachNewThread {
            results.append((index, Result { try body(index) }))
            finished.signal()
        }
    }
    for _ in 0..<count { finished.wait() }
    return results.all.sorted { $0.0 < $1.0 }.map(\.1)
}

/// Waits up to `seconds` for `condition`, polling. Generous: a listener's wake runs on the
/// cooperative pool, which the other tests' blocking calls may hold for seconds at a time.
func eventually(within seconds: Double = 60, _ condition: () throws -> Bool) async throws -> Bool {
    let deadline = Date().addingTimeInterval(seconds)
    while Date() < deadline {
        if try condition() { return true }
        try await Task.sleep(for: .milliseconds(20))
    }
    return try condition()
}

@Suite("PostgreSQL leases, fencing and the inbox")
struct PostgresClusterTests {

    @Test("members racing for the lease: one wins each round, and every new term has a larger epoch")
    func race() throws {
        let database = try TestDatabase()
        let stores = try (0..<6).map { _ in try database.open() }
        defer { stores.forEach { $0.close() } }
        var epochs: [Int64] = []
        for _ in 1...3 {
            let results = concurrently(stores.count) { index in try stores[index].acquireLease(member: "box\(index)", ttl: 30) }
            let leases = try results.map { try $0.get() }.compactMap { $0 }
            #expect(leases.count == 1)
            let lease = try #require(leases.first)
            epochs.append(lease.epoch)
            #expect(try stores[0].leaseState().leader == lease.member)
            try stores[0].releaseLease(lease)
        }
        #expect(epochs == [1, 2, 3])
    }

    @Test("a lease expires; renewing it then fails; the next holder gets a new epoch")
    func expiry() throws {
        let store = try TestDatabase().open()
        defer { store.close() }
        let a = try #require(try store.acquireLease(member: "a", ttl: 0.5))
        #expect(a == Lease(member: "a", epoch: 1))
        #expect(try store.acquireLease(member: "b", ttl: 5) == nil)
        #expect(try store.acquireLease(member: "a", ttl: 0.5) == a)  // renewed, same term
        #expect(try store.renewLease(a, ttl: 0.5))
        let state = try store.leaseState()
        #expect(state.leader == "a" && state.epoch == 1 && state.expiresIn > 0 && state.expiresIn <= 0.5 && state.age < 0.5)
        Thread.sleep(forTimeInterval: 0.7)
        #expect(try store.leaseState().expiresIn < 0)
        #expect(try !store.renewLease(a, ttl: 5))
        let b = try #require(try store.acquireLease(member: "b", ttl: 5))
        #expect(b.epoch == 2)
        #expect(try !store.renewLease(a, ttl: 5))
        // Released, it is free at once; even its old holder starts a new term.
        try store.releaseLease(b)
        #expect(try store.leaseState().expiresIn <= 0)
        #expect(try store.acquireLease(member: "b", ttl: 5)?.epoch == 3)
        // Renewing someone else's lease, or a lease of another epoch, fails.
        #expect(try !store.renewLease(Lease(member: "a", epoch: 3), ttl: 5))
        #expect(try !store.renewLease(Lease(member: "b", epoch: 2), ttl: 5))
    }

    @Test("members announce themselves and drop out of the list when silent")
    func members() throws {
        let store = try TestDatabase().open()
        defer { store.close() }
        try store.announce(ClusterMember(id: "b", grpcAddress: "b:7001", httpAddress: "b:8080", version: "1"))
        try store.announce(ClusterMember(id: "a", grpcAddress: "a:7001", httpAddress: "a:8080", version: "1"))
        try store.announce(ClusterMember(id: "a", grpcAddress: "a:7002", httpAddress: "a:8080", version: "2"))
        let members = try store.members(within: 60)
        #expect(members.map(\.id) == ["a", "b"])
        #expect(members.first?.grpcAddress == "a:7002" && members.first?.version == "2")
        #expect(members.allSatisfy { $0.age >= 0 && $0.age < 5 })
        Thread.sleep(forTimeInterval: 0.2)
        #expect(try store.members(within: 0.1).isEmpty)
    }

    @Test("a leader whose lease expired changes nothing: each of its writes fails with the fence's error")
    func fencing() throws {
        let database = try TestDatabase()
        let old = try database.open()
        let new = try database.open()
        defer {
            old.close()
            new.close()
        }
        let job = Job(command: "x", arguments: [:], requester: "U1", createdAt: 1)
        let ids = try (0..<3).map { _ in try old.insert(job, children: [], secrets: nil).0.id }
        let message = try old.enqueue(
            OutboxMessage(orderKey: "C1", operation: .post, payload: [1], channel: "C1", messageKey: nil, createdAt: 1))
        let lease = try #require(try old.acquireLease(member: "old", ttl: 0.5))
        old.fence(with: lease)
        #expect(try old.start(ids[0], agent: "a", at: 2) != nil)
        #expect(try old.start(ids[1], agent: "a", at: 2) != nil)
        Thread.sleep(forTimeInterval: 0.7)

        // Expired: every orchestration write fails, loudly (a quiet "nothing changed" read as
        // "already done": a result acknowledged that way was lost).
        func fenced(_ write: () throws -> Void, sourceLocation: SourceLocation = #_sourceLocation) {
            do {
                try write()
                Issue.record("the write went through", sourceLocation: sourceLocation)
            } catch let error as PostgresStoreError {
                #expect(error.sqlState == "MSF01", "\(error)", sourceLocation: sourceLocation)
            } catch {
                Issue.record("\(error)", sourceLocation: sourceLocation)
            }
        }
        fenced { _ = try old.start(ids[2], agent: "a", at: 3) }
        fenced { _ = try old.confirmStarted(ids[0], attempt: 1) }
        fenced { _ = try old.finish(ids[0], attempt: 1, outcome: JobOutcome(status: .succeeded), at: 3) }
        fenced { _ = try old.finish(ids[0], attempt: nil, outcome: JobOutcome(status: .lost), at: 3) }
        fenced { _ = try old.requeue(ids[1], attempt: 1, notBefore: 0) }
        fenced { _ = try old.insert(job, children: [], secrets: nil) }
        fenced { try old.markDelivered(message) }
        fenced { try old.markFailed(message, error: "x") }
        fenced { try old.reschedule(message, notBefore: 99, attempts: 5, error: "x") }
        let pending = try old.nextPending(orderKey: "C1")
        #expect(pending?.id == message && pending?.attempts == 0 && pending?.notBefore == 0)
        #expect(try old.jobs(JobQuery(oldestFirst: true)).map(\.status) == [.running, .running, .queued])

        // The next leader's writes go through, and the old one's still do not.
        let next = try #require(try new.acquireLease(member: "new", ttl: 30))
        #expect(next.epoch == lease.epoch + 1)
        new.fence(with: next)
        #expect(try new.start(ids[2], agent: "b", at: 4)?.agent == "b")
        #expect(try new.finish(ids[0], attempt: 1, outcome: JobOutcome(status: .succeeded), at: 4)?.status == .succeeded)
        fenced { _ = try old.requeue(ids[1], attempt: 1, notBefore: 0) }
        #expect(try new.requeue(ids[1], attempt: 1, notBefore: 0))
        try new.markDelivered(message)
        #expect(try new.outboxDepth() == 0)
        // Unfenced (a box alone), writes are not conditioned.
        old.fence(with: nil)
        #expect(try old.start(ids[1], agent: "a", at: 5) != nil)
    }

    @Test("the inbox: posted, claimed once per epoch, answered once; a later epoch claims what was left")
    func inbox() throws {
        let database = try TestDatabase()
        let leader = try database.open()
        let door = try database.open()
        defer {
            leader.close()
            door.close()
        }
        let first = try #require(try door.post(InboxRequest(kind: "api", payload: [1, 2], createdAt: 5)))
        let second = try #require(try door.post(InboxRequest(kind: "slack", payload: [3], createdAt: 6)))
        let third = try #require(try door.post(InboxRequest(kind: "slack", payload: [], createdAt: 7)))
        let lease = try #require(try leader.acquireLease(member: "l", ttl: 30))
        let claimed = try leader.claim(for: lease, limit: 2)
        #expect(
            claimed == [
                InboxRequest(id: first, kind: "api", payload: [1, 2], createdAt: 5),
                InboxRequest(id: second, kind: "slack", payload: [3], createdAt: 6),
            ])
        #expect(try leader.claim(for: lease, limit: 10).map(\.id) == [third])
        #expect(try leader.claim(for: lease, limit: 10).isEmpty)
        #expect(try door.response(of: first) == nil)
        try leader.answer(first, response: Array("ok".utf8), lease: lease)
        try leader.answer(first, response: Array("again".utf8), lease: lease)
        #expect(try door.response(of: first) == Array("ok".utf8))
        try leader.answer(third, response: [], lease: lease)
        #expect(try door.response(of: third) == [])

        // The leader dies before answering the second: its successor claims it again. The old
        // lease's claims and answers are refused, loudly.
        try leader.releaseLease(lease)
        #expect(((try? leader.claim(for: lease, limit: 10)) ?? []).isEmpty)
        #expect(throws: PostgresStoreError.self) { try leader.answer(second, response: [9], lease: lease) }
        #expect(try door.response(of: second) == nil)
        let next = try #require(try door.acquireLease(member: "d", ttl: 30))
        #expect(try door.claim(for: next, limit: 10).map(\.id) == [second])
        try door.answer(second, response: [7], lease: next)
        #expect(try door.response(of: second) == [7])
        #expect(try door.response(of: 12345) == nil)

        // A retried Slack event is stored once.
        #expect(try door.post(InboxRequest(kind: "slack", payload: [1], createdAt: 8, eventID: "Ev1")) != nil)
        #expect(try door.post(InboxRequest(kind: "slack", payload: [1], createdAt: 9, eventID: "Ev1")) == nil)
        #expect(try door.post(InboxRequest(kind: "slack", payload: [1], createdAt: 9, eventID: "Ev2")) != nil)
    }

    @Test("LISTEN/NOTIFY wakes a listener for posts and answers, and again after its connection is killed")
    func notifications() async throws {
        let database = try TestDatabase()
        let leader = try database.open()
        let door = try database.open()
        defer {
            leader.close()
            door.close()
        }
        let received = Collected<String>()
        let inbox = Task { try await leader.listen(PostgresStore.inboxChannel) { payload in received.append("inbox \(payload)") } }
        let replies = Task { try await door.listen(PostgresStore.replyChannel) { payload in received.append("reply \(payload)") } }
        // Listening has begun once a notification of our own comes through.
        #expect(
            try await eventually {
                try door.notify(PostgresStore.inboxChannel, payload: "ping")
                try door.notify(PostgresStore.replyChannel, payload: "ping")
                return received.all.contains("inbox ping") && received.all.contains("reply ping")
            })
        let id = try #require(try door.post(InboxRequest(kind: "api", payload: [1], createdAt: 1)))
        #expect(try await eventually { received.all.contains("inbox \(id)") })
        let lease = try #require(try leader.acquireLease(member: "l", ttl: 30))
        _ = try leader.claim(for: lease, limit: 1)
        try leader.answer(id, response: [2], lease: lease)
        #expect(try await eventually { received.all.contains("reply \(id)") })

        // The listener's connection is killed: it reconnects, says so with an empty payload,
        // and hears the next posts.
        let killed = try door.pool.withConnection { session in
            try session.query(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'meeseeks listener' AND datname = $1",
                [.text(database.settings.database)]
            ).rows.count
        }
        #expect(killed == 2)
        #expect(try await eventually { received.all.contains("inbox ") })
        // The empty wake comes once listening again, so a post from now on is heard.
        let later = try #require(try door.post(InboxRequest(kind: "api", payload: [3], createdAt: 2)))
        #expect(try await eventually { received.all.contains("inbox \(later)") })
        inbox.cancel()
        replies.cancel()
        try await inbox.value
        try await replies.value
    }
}
