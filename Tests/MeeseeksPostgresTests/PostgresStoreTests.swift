import Crypto
import Foundation
import Logging
import MeeseeksCore
import MeeseeksLabels
import MeeseeksVault
import Testing

@testable import MeeseeksPostgres

/// A store on a new database, and how to open it again.
struct TestDatabase {
    let settings: PostgresSettings
    let sealer: any SecretSealer

    init(sealer: any SecretSealer = AESGCMSealer(key: SymmetricKey(size: .bits256))) throws {
        settings = try PostgresTestCluster.freshDatabase()
        self.sealer = sealer
    }

    func open(sealer: (any SecretSealer)?? = .none) throws -> PostgresStore {
        try PostgresStore(settings: settings, sealer: sealer ?? self.sealer)
    }
}

/// The cases of `SQLiteStoreTests`, on PostgreSQL: the same behaviour, method by method.
@Suite("The PostgreSQL store")
struct PostgresStoreTests {
    func job(_ command: String = "hello", agent: String? = nil, origin: String? = nil) -> Job {
        Job(command: command, arguments: ["who": "world"], requester: "U1", agent: agent, createdAt: 1000, origin: origin)
    }

    @Test("jobs are stored, started once, and finished once per attempt")
    func lifecycle() throws {
        let store = try TestDatabase().open()
        defer { store.close() }
        let (stored, _) = try store.insert(job(), children: [], secrets: nil)
        #expect(stored.id == 1)
        #expect(try store.jobs(JobQuery(statuses: [.queued])).map(\.id) == [1])
        let started = try #require(try store.start(1, agent: "a1", at: 1001))
        #expect(started.attempt == 1 && started.status == .running && started.agent == "a1")
        #expect(try store.start(1, agent: "a2", at: 1002) == nil)  // not queued any more
        #expect(try store.finish(1, attempt: 2, outcome: JobOutcome(status: .succeeded, exitCode: 0), at: 1003) == nil)  // stale attempt
        let done = try #require(try store.finish(1, attempt: 1, outcome: JobOutcome(status: .succeeded, exitCode: 0), at: 1003))
        #expect(done.status == .succeeded && done.exitCode == 0 && done.duration == 2)
        #expect(try store.finish(1, attempt: 1, outcome: JobOutcome(status: .failed), at: 1004) == nil)  // repeated result
        #expect(try store.job(1)?.status == .succeeded)
        #expect(try store.job(1)?.arguments == ["who": "world"])
    }

    @Test("a handed-back job is queued again; a broadcast's children keep their agents")
    func requeue() throws {
        let store = try TestDatabase().open()
        defer { store.close() }
        var parent = job()
        parent.isBroadcast = true
        let (p, children) = try store.insert(parent, children: [job(agent: "a1"), job(agent: "a2")], secrets: nil)
        #expect(children.map(\.parentID) == [p.id, p.id])
        _ = try store.start(children[0].id, agent: "a1", at: 1001)
        #expect(try store.requeue(children[0].id, attempt: 1, notBefore: 0))
        #expect(try store.job(children[0].id)?.agent == "a1")
        #expect(try store.requeue(children[0].id, attempt: 1, notBefore: 0) == false)
        // The queue leaves broadcast parents aside.
        #expect(try store.queued(after: 0, limit: 10).map(\.id) == children.map(\.id))
        #expect(try store.queueStats().depth == 2)
        #expect(try store.jobs(JobQuery(parentID: p.id, oldestFirst: true)).map(\.id) == children.map(\.id))
        #expect(try store.jobs(JobQuery(topLevelOnly: true)).map(\.id) == [p.id])
    }

    @Test("a request carried out twice makes one job, with its children")
    func origin() throws {
        let store = try TestDatabase().open()
        defer { store.close() }
        var parent = job(origin: "inbox:7")
        parent.isBroadcast = true
        let (first, children) = try store.insert(parent, children: [job(agent: "a1"), job(agent: "a2")], secrets: nil)
        let (again, againChildren) = try store.insert(parent, children: [job(agent: "a1"), job(agent: "a2")], secrets: nil)
        #expect(again.id == first.id && againChildren.map(\.id) == children.map(\.id))
        #expect(try store.jobs(JobQuery()).count == 3)
        // Children do not store the origin: only the request's own job is unique.
        #expect(try store.job(children[0].id)?.origin == nil)
        #expect(try store.job(first.id)?.origin == "inbox:7")
    }

    @Test("output is capped with one marker, and read back by offset")
    func output() throws {
        let store = try TestDatabase().open()
        defer { store.close() }
        _ = try store.insert(job(), children: [], secrets: nil)
        try store.appendOutput(1, Array("hello ".utf8), limit: 10)
        try store.appendOutput(1, Array("world, and more".utf8), limit: 10)
        try store.appendOutput(1, Array("even more".utf8), limit: 10)
        let all = String(decoding: try store.output(1, from: 0, limit: 1000), as: UTF8.self)
        #expect(all.hasPrefix("hello worl\n[… output truncated: this job printed more than 10 bytes"))
        #expect(all.components(separatedBy: "truncated").count == 2)
        #expect(String(decoding: try store.output(1, from: 6, limit: 4), as: UTF8.self) == "worl")
        #expect(try store.outputSize(1) == all.utf8.count)
    }

    @Test("the outbox keeps order per key and survives reopening")
    func outbox() throws {
        let database = try TestDatabase()
        let store = try database.open()
        for (key, text) in [("C1", "a"), ("C2", "b"), ("C1", "c")] {
            try store.enqueue(
                OutboxMessage(orderKey: key, operation: .post, payload: Array(text.utf8), channel: key, messageKey: nil, createdAt: 1))
        }
        #expect(try store.outboxHeads(limit: 10).map { String(decoding: $0.payload, as: UTF8.self) } == ["a", "b"])
        try store.markDelivered(1)
        store.close()
        let reopened = try database.open()
        defer { reopened.close() }
        #expect(try reopened.outboxHeads(limit: 10).map { String(decoding: $0.payload, as: UTF8.self) } == ["b", "c"])
        #expect(try reopened.outboxDepth() == 2)
        #expect(try reopened.nextPending(orderKey: "C1")?.payload == Array("c".utf8))
        try reopened.reschedule(3, notBefore: 99, attempts: 2, error: "429")
        let rescheduled = try reopened.nextPending(orderKey: "C1")
        #expect(rescheduled?.notBefore == 99 && rescheduled?.attempts == 2)
        try reopened.markFailed(3, error: "channel_not_found")
        #expect(try reopened.nextPending(orderKey: "C1") == nil)
        try reopened.setMessageReference("dialog:x", channel: "C1", ts: "1.2")
        try reopened.setMessageReference("dialog:x", channel: "C1", ts: "1.3")
        #expect(try reopened.messageReference("dialog:x")?.ts == "1.3")
        #expect(try reopened.messageReference("dialog:y") == nil)
    }

    @Test("an inbound event id is new once, across reopening, until it is forgotten")
    func eventSightings() throws {
        let database = try TestDatabase()
        let store = try database.open()
        #expect(try store.firstSighting(ofEvent: "Ev1", at: 100, forgetBefore: 0))
        #expect(try !store.firstSighting(ofEvent: "Ev1", at: 101, forgetBefore: 0))
        store.close()
        let reopened = try database.open()
        defer { reopened.close() }
        #expect(try !reopened.firstSighting(ofEvent: "Ev1", at: 200, forgetBefore: 50))
        #expect(try reopened.firstSighting(ofEvent: "Ev2", at: 200, forgetBefore: 50))
        // An hour later Slack has long stopped retrying: the id is dropped, and new again.
        #expect(try reopened.firstSighting(ofEvent: "Ev1", at: 3800, forgetBefore: 200))
    }

    @Test("audit filters, tokens by hash, and purging old history")
    func auditTokensPurge() throws {
        let store = try TestDatabase().open()
        defer { store.close() }
        try store.append(AuditRecord(action: .policyDenied, user: "U1", command: "x", outcome: "denied"), at: 10)
        try store.append(AuditRecord(action: .policyAllowed, user: "U2", command: "y", outcome: "allowed", jobID: 4), at: 20)
        #expect(try store.audit(AuditQuery(user: "U2")).map(\.record.action) == [.policyAllowed])
        #expect(try store.audit(AuditQuery(user: "U2")).first?.record.jobID == 4)
        #expect(try store.audit(AuditQuery(since: 15)).count == 1)
        #expect(try store.audit(AuditQuery(until: 15)).map(\.record.user) == ["U1"])
        #expect(try store.audit(AuditQuery(limit: 1)).map(\.record.user) == ["U2"])  // the newest, oldest first
        try store.saveToken(APIToken(name: "laptop", user: "U1", hash: "abc", createdAt: 1))
        try store.saveToken(APIToken(name: "Desktop", user: "U2", hash: "def", createdAt: 2))
        #expect(throws: PostgresStoreError.self) { try store.saveToken(APIToken(name: "laptop", user: "U3", hash: "ghi", createdAt: 3)) }
        #expect(try store.token(hash: "abc")?.user == "U1")
        #expect(try store.tokens().map(\.name) == ["Desktop", "laptop"])  // byte order, as SQLite
        #expect(try store.revokeToken(name: "laptop"))
        #expect(try !store.revokeToken(name: "laptop"))
        #expect(try store.token(hash: "abc")?.revoked == true)
        _ = try store.insert(job(), children: [], secrets: nil)
        _ = try store.start(1, agent: "a", at: 1)
        _ = try store.finish(1, attempt: 1, outcome: JobOutcome(status: .succeeded), at: 2)
        #expect(try store.purge(before: 15) == 1)
        #expect(try store.job(1) == nil)
        #expect(try store.audit(AuditQuery()).count == 1)
    }

    @Test("dialogs are sealed, listed when idle and waiting; agents are kept as last seen")
    func dialogsAndAgents() throws {
        let database = try TestDatabase()
        let store = try database.open()
        defer { store.close() }
        var waiting = Dialog(id: "d1", user: "U1", channel: "C1", now: 10)
        waiting.phase = .menu
        try store.save(waiting)
        var running = Dialog(id: "d2", user: "U2", channel: nil, now: 20)
        running.phase = .running(jobID: 3)
        try store.save(running)
        #expect(try store.dialog("d1") == waiting)
        #expect(try store.dialog("nope") == nil)
        #expect(try store.idleDialogs(before: 100, limit: 10) == ["d1"])
        #expect(try store.idleDialogs(before: 5, limit: 10).isEmpty)
        running.phase = .awaitingCode
        try store.save(running)
        #expect(try store.idleDialogs(before: 100, limit: 10) == ["d1", "d2"])
        #expect(try store.idleDialogs(before: 100, limit: 1) == ["d1"])
        let stranger = try database.open(sealer: AESGCMSealer(key: SymmetricKey(size: .bits256)))
        defer { stranger.close() }
        #expect(throws: SealError.unreadable) { try stranger.dialog("d1") }
        let agent = AgentRecord(
            id: "a1", hostname: "h", labels: LabelSet(["os": "linux"]), commands: ["x"], slots: 2, version: "1", connected: true,
            lastSeen: 5)
        try store.save(agent)
        var gone = agent
        gone.connected = false
        try store.save(gone)
        #expect(try store.agents() == [gone])
    }

    @Test("a database of an earlier release (schema 2) is upgraded in place, its rows kept")
    func upgradeFromSchema2() throws {
        let database = try TestDatabase()
        let pool = try BlockingConnectionPool(
            settings: database.settings, logger: Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() }))
        defer { pool.close() }
        try PostgresMigrations.apply(to: pool, upTo: 2)
        var waiting = Dialog(id: "d1", user: "U1", channel: "C1", now: 10)
        waiting.phase = .menu
        let json = Array(try JSONEncoder().encode(waiting))
        try pool.withConnection { session in
            try session.query(
                "INSERT INTO jobs (command, arguments, requester, status, created_at) VALUES ('hello', '{}', 'U1', 'queued', 1)")
            try session.query("INSERT INTO dialogs (id, \"user\", state, updated_at) VALUES ('d1', 'U1', $1, 10)", [.bytes(json)])
        }
        let upgraded = try database.open()
        defer { upgraded.close() }
        #expect(try upgraded.schemaVersion() == PostgresMigrations.steps.count)
        #expect(try upgraded.job(1)?.command == "hello")
        let legacy = try #require(try upgraded.dialog("d1"))
        #expect(legacy.user == "U1")
        // Old dialogs are not marked waiting; new saves are, and are sealed from then on.
        #expect(try upgraded.idleDialogs(before: 100, limit: 10).isEmpty)
        try upgraded.save(legacy)
        #expect(try upgraded.idleDialogs(before: 100, limit: 10) == ["d1"])
        let stored = try pool.withConnection { try $0.query("SELECT state FROM dialogs").rows.first?.bytes(0) }
        #expect(stored?.first != UInt8(ascii: "{"))
        #expect(try upgraded.firstSighting(ofEvent: "Ev1", at: 1, forgetBefore: 0))
        // Opening again changes nothing.
        let again = try database.open()
        again.close()
        #expect(
            try pool.withConnection { try $0.query("SELECT COUNT(*) FROM schema_version").rows.first?.int(0) }
                == Int64(PostgresMigrations.steps.count))
    }

    @Test("secrets are sealed with their job, opened only with the key, and erased when it ends")
    func sealedSecrets() throws {
        let database = try TestDatabase()
        let store = try database.open()
        defer { store.close() }
        let secrets = JobSecrets(arguments: ["password": "hunter2 %20\n–ü"], code: "123456")
        let (stored, _) = try store.insert(job(), children: [], secrets: secrets)
        #expect(try store.secrets(of: stored.id) == secrets)
        // Nowhere in the database in clear.
        let clear = try store.pool.withConnection { session in
            try session.query(
                "SELECT COUNT(*) FROM jobs WHERE position($1 in secrets) > 0 OR position($2 in secrets) > 0 OR arguments LIKE '%hunter2%'",
                [.bytes(Array("hunter2".utf8)), .bytes(Array("123456".utf8))]
            ).rows.first?.int(0)
        }
        #expect(clear == 0)
        // Another key cannot open them: the job must fail, not run with a mask.
        let stranger = try database.open(sealer: AESGCMSealer(key: SymmetricKey(size: .bits256)))
        defer { stranger.close() }
        #expect(throws: SealError.unreadable) { try stranger.secrets(of: stored.id) }
        // A sealed value moved to another row does not open there.
        let (other, _) = try store.insert(job(), children: [], secrets: nil)
        try store.pool.withConnection { session in
            try session.query(
                "UPDATE jobs SET secrets = (SELECT secrets FROM jobs WHERE id = $1) WHERE id = $2", [.int(stored.id), .int(other.id)])
        }
        #expect(throws: SealError.unreadable) { try store.secrets(of: other.id) }
        // A hand-back keeps them; the end erases them.
        _ = try store.start(stored.id, agent: "a", at: 1)
        #expect(try store.requeue(stored.id, attempt: 1, notBefore: 50))
        #expect(try store.job(stored.id)?.notBefore == 50)
        #expect(try store.handbacks(stored.id) == 1)
        #expect(try store.secrets(of: stored.id) == secrets)
        _ = try store.start(stored.id, agent: "a", at: 60)
        #expect(try store.runningJobs().map(\.id) == [stored.id])
        _ = try store.finish(stored.id, attempt: 2, outcome: JobOutcome(status: .succeeded), at: 61)
        #expect(try store.secrets(of: stored.id) == nil)
    }

    @Test("a start is confirmed once per attempt; a store without the key refuses secrets and dialogs")
    func confirmationsAndNoKey() throws {
        let database = try TestDatabase()
        let store = try database.open()
        defer { store.close() }
        let (stored, _) = try store.insert(job(), children: [], secrets: nil)
        _ = try store.start(stored.id, agent: "a", at: 1)
        #expect(try !store.confirmStarted(stored.id, attempt: 2))
        #expect(try store.confirmStarted(stored.id, attempt: 1))
        #expect(try !store.confirmStarted(stored.id, attempt: 1))
        #expect(try store.job(stored.id)?.confirmed == true)
        let keyless = try database.open(sealer: .some(nil))
        defer { keyless.close() }
        #expect(throws: SealError.self) { try keyless.insert(job(), children: [], secrets: JobSecrets(code: "1")) }
        #expect(throws: SealError.self) { try keyless.save(Dialog(id: "d", user: "U", channel: nil, now: 1)) }
    }

    @Test("output windows near Int.max read nothing instead of trapping")
    func outputBounds() throws {
        let store = try TestDatabase().open()
        defer { store.close() }
        _ = try store.insert(job(), children: [], secrets: nil)
        try store.appendOutput(1, Array("hello".utf8), limit: 100)
        for (offset, limit) in [(Int.max, 1 << 20), (Int.max - 1, Int.max), (0, Int.max), (-1, 10), (3, -5), (Int.min, Int.min)] {
            _ = try store.output(1, from: offset, limit: limit)
        }
        #expect(try store.output(1, from: 0, limit: Int.max) == Array("hello".utf8))
        #expect(try store.output(1, from: 3, limit: Int.max) == Array("lo".utf8))
    }

    @Test("boxes starting together on a new database apply each schema step once")
    func concurrentMigrations() throws {
        let database = try TestDatabase()
        let opened = concurrently(4) { _ in try database.open() }
        let stores = try opened.map { try $0.get() }
        defer { stores.forEach { $0.close() } }
        let versions = try stores[0].pool.withConnection { session in
            try session.query("SELECT version FROM schema_version ORDER BY version").rows.map { try $0.int(0) ?? 0 }
        }
        #expect(versions == Array(1...Int64(PostgresMigrations.steps.count)))
        #expect(try stores.map { try $0.schemaVersion() } == Array(repeating: PostgresMigrations.steps.count, count: 4))
    }

    @Test("a database from a newer build is refused")
    func newerSchema() throws {
        let database = try TestDatabase()
        let store = try database.open()
        try store.pool.withConnection { try $0.query("INSERT INTO schema_version (version) VALUES (99)") }
        store.close()
        let error = #expect(throws: PostgresStoreError.self) { try database.open() }
        #expect(error?.code == .schemaTooNew)
    }
}
