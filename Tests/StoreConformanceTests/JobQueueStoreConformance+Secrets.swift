import MeeseeksCore
import MeeseeksVault
import Synchronization
import Testing

/// `JobQueueStore`: secrets are kept sealed with each job that runs, until it ends.
extension JobQueueStoreConformance {
    static let secrets = JobSecrets(arguments: ["password": "hunter2 %20\n–ü", "token": ""], code: "123456")

    @Test("secrets read back as given, until the job ends", arguments: StoreFactory.all)
    func secretsRoundTrip(_ factory: StoreFactory) throws {
        let store = try factory.make()
        let stored = try store.add(job(), secrets: Self.secrets)
        #expect(try store.secrets(of: stored.id) == Self.secrets)
        let started = try #require(try store.start(stored.id, agent: "a1", at: 1))
        #expect(try store.requeue(stored.id, attempt: started.attempt, notBefore: 50))  // a hand-back keeps them
        #expect(try store.secrets(of: stored.id) == Self.secrets)
        _ = try store.start(stored.id, agent: "a1", at: 60)
        // A stale result ends nothing, and erases nothing.
        #expect(try store.finish(stored.id, attempt: 1, outcome: JobOutcome(status: .succeeded), at: 61) == nil)
        #expect(try store.secrets(of: stored.id) == Self.secrets)
        _ = try store.finish(stored.id, attempt: 2, outcome: JobOutcome(status: .succeeded), at: 61)
        #expect(try store.secrets(of: stored.id) == nil)
        let cancelled = try store.add(job(), secrets: JobSecrets(code: "654321"))
        _ = try store.finish(cancelled.id, attempt: nil, outcome: JobOutcome(status: .cancelled), at: 2)
        #expect(try store.secrets(of: cancelled.id) == nil)
    }

    @Test("no secrets, empty secrets and unknown jobs read as nil", arguments: StoreFactory.all)
    func noSecrets(_ factory: StoreFactory) throws {
        let store = try factory.make()
        #expect(try store.secrets(of: store.add(job()).id) == nil)
        #expect(try store.secrets(of: store.add(job(), secrets: JobSecrets()).id) == nil)
        #expect(try store.secrets(of: 99) == nil)
    }

    @Test("each child of a broadcast holds its own copy; the parent holds none", arguments: StoreFactory.all)
    func broadcastSecrets(_ factory: StoreFactory) throws {
        let store = try factory.make()
        let (parent, children) = try store.insert(
            broadcast(), children: [job(agent: "a1"), job(agent: "a2")], secrets: Self.secrets)
        #expect(try store.secrets(of: parent.id) == nil)
        #expect(try children.map { try store.secrets(of: $0.id) } == [Self.secrets, Self.secrets])
        _ = try store.finish(children[0].id, attempt: nil, outcome: JobOutcome(status: .cancelled), at: 2)
        #expect(try store.secrets(of: children[0].id) == nil)
        #expect(try store.secrets(of: children[1].id) == Self.secrets)
    }

    @Test("secrets are sealed per job, bound to job:<id>, and opened for that job only", arguments: StoreFactory.all)
    func secretsBoundToJob(_ factory: StoreFactory) throws {
        // The same context in every store, so a sealed value copied from one database to another
        // (SQLite to PostgreSQL) still opens, and one moved to another row does not.
        let sealer = RecordingSealer()
        let store = try factory.makeDatabase().open(sealer: sealer)
        try store.add(job())
        _ = try store.insert(broadcast(), children: [job(agent: "a1"), job(agent: "a2")], secrets: Self.secrets)
        #expect(sealer.calls == ["seal job:3", "seal job:4"])
        _ = try store.secrets(of: 4)
        _ = try store.secrets(of: 1)
        #expect(sealer.calls == ["seal job:3", "seal job:4", "open job:4"])
    }

    @Test("another key cannot open them: reading fails with SealError.unreadable", arguments: StoreFactory.all)
    func secretsOtherKey(_ factory: StoreFactory) throws {
        let database = try factory.makeDatabase()
        let stored = try database.open().add(job(), secrets: Self.secrets)
        let stranger = try database.open(sealer: strangerSealer)
        #expect(throws: SealError.unreadable) { try stranger.secrets(of: stored.id) }
        #expect(try database.open().secrets(of: stored.id) == Self.secrets)
    }

    @Test(
        "a store without the key refuses to store or read secrets, and stores jobs without them",
        arguments: StoreFactory.all)
    func secretsWithoutKey(_ factory: StoreFactory) throws {
        let database = try factory.makeDatabase()
        let sealed = try database.open().add(job(), secrets: Self.secrets)
        let keyless = try database.open(sealer: nil)
        #expect(throws: SealError.self) { try keyless.add(job(), secrets: JobSecrets(code: "1")) }
        #expect(throws: SealError.self) { try keyless.secrets(of: sealed.id) }
        let plain = try keyless.add(job())
        #expect(try keyless.secrets(of: plain.id) == nil)
        #expect(try keyless.jobs(JobQuery()).map(\.id) == [plain.id, sealed.id])
    }

    @Test("a seal that fails halfway through a broadcast stores none of it", arguments: StoreFactory.all)
    func sealFailureIsAtomic(_ factory: StoreFactory) throws {
        let database = try factory.makeDatabase()
        let failing = try database.open(sealer: FailingSealer(after: 1))
        #expect(throws: SealError.self) {
            try failing.insert(broadcast(), children: [job(agent: "a1"), job(agent: "a2")], secrets: Self.secrets)
        }
        let store = try database.open()
        #expect(try store.jobs(JobQuery()).isEmpty)
        #expect(try store.queueStats().depth == 0)
    }
}

/// Seals `after` values, then refuses.
final class FailingSealer: SecretSealer {
    private let remaining: Mutex<Int>

    init(after count: Int) {
        remaining = Mutex(count)
    }

    func seal(_ plaintext: [UInt8], context: String) throws -> [UInt8] {
        let allowed = remaining.withLock { left in
            left -= 1
            return left >= 0
        }
        guard allowed else { throw SealError.cannotSeal("refused for the test") }
        return try testSealer.seal(plaintext, context: context)
    }

    func open(_ sealed: [UInt8], context: String) throws(SealError) -> [UInt8] {
        try testSealer.open(sealed, context: context)
    }
}
