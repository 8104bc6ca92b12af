import Crypto
import Foundation
import MeeseeksCore
import MeeseeksSQLite
import MeeseeksVault
import Testing

@Suite("The SQLite store")
struct SQLiteStoreTests {
    let sealer = AESGCMSealer(key: SymmetricKey(size: .bits256))

    func store() throws -> (SQLiteStore, String) {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("store-\(UUID().uuidString).db").path
        return (try SQLiteStore(path: path, sealer: sealer), path)
    }

    func reopen(_ path: String) throws -> SQLiteStore {
        try SQLiteStore(path: path, sealer: sealer)
    }

    func job(_ command: String = "hello", agent: String? = nil) -> Job {
        Job(command: command, arguments: ["who": "world"], requester: "U1", agent: agent, createdAt: 1000)
    }

    @Test("jobs are stored, started once, and finished once per attempt")
    func lifecycle() throws {
        let (store, _) = try store()
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
    }

    @Test("a handed-back job is queued again; a broadcast's children keep their agents")
    func requeue() throws {
        let (store, _) = try store()
        var parent = job()
        parent.isBroadcast = true
        let (p, children) = try store.insert(parent, children: [job(agent: "a1"), job(agent: "a2")], secrets: nil)
        #expect(children.map(\.parentID) == [p.id, p.id])
        _ = try store.start(children[0].id, agent: "a1", at: 1001)
        #expect(try store.requeue(children[0].id, attempt: 1, notBefore: 0))
        #expect(try store.job(children[0].id)?.agent == "a1")
        #expect(try store.requeue(children[0].id, attempt: 1, notBefore: 0) == false)
    }

    @Test("output is capped with one marker, and read back by offset")
    func output() throws {
        let (store, _) = try store()
        _ = try store.insert(job(), children: [], secrets: nil)
        try store.appendOutput(1, Array("hello ".utf8), limit: 10)
        try store.appendOutput(1, Array("world, and more".utf8), limit: 10)
        try store.appendOutput(1, Array("even more".utf8), limit: 10)
        let all = String(decoding: try store.output(1, from: 0, limit: 1000), as: UTF8.self)
        #expect(all.hasPrefix("hello worl\n[… output truncated: this job printed more than 10 bytes"))
        #expect(all.components(separatedBy: "truncated").count == 2)
        #expect(String(decoding: try store.output(1, from: 6, limit: 4), as: UTF8.self) == "worl")
    }

    @Test("the outbox keeps order per key and survives reopening")
    func outbox() throws {
        let (store, path) = try store()
        for (key, text) in [("C1", "a"), ("C2", "b"), ("C1", "c")] {
            try store.enqueue(OutboxMessage(orderKey: key, operation: .post, payload: Array(text.utf8), channel: key, messageKey: nil, createdAt: 1))
        }
        #expect(try store.outboxHeads(limit: 10).map { String(decoding: $0.payload, as: UTF8.self) } == ["a", "b"])
        try store.markDelivered(1)
        let reopened = try reopen(path)
        #expect(try reopened.outboxHeads(limit: 10).map { String(decoding: $0.payload, as: UTF8.self) } == ["b", "c"])
        #expect(try reopened.outboxDepth() == 2)
        try reopened.setMessageReference("dialog:x", channel: "C1", ts: "1.2")
        #expect(try reopened.messageReference("dialog:x")?.ts == "1.2")
    }

    @Test("an inbound event id is new once, across reopening, until it is forgotten")
    func eventSightings() throws {
        let (store, path) = try store()
        #expect(try store.firstSighting(ofEvent: "Ev1", at: 100, forgetBefore: 0))
        #expect(try !store.firstSighting(ofEvent: "Ev1", at: 101, forgetBefore: 0))
        let reopened = try reopen(path)
        #expect(try !reopened.firstSighting(ofEvent: "Ev1", at: 200, forgetBefore: 50))
        #expect(try reopened.firstSighting(ofEvent: "Ev2", at: 200, forgetBefore: 50))
        // An hour later Slack has long stopped retrying: the id is dropped, and new again.
        #expect(try reopened.firstSighting(ofEvent: "Ev1", at: 3800, forgetBefore: 200))
    }

    @Test("audit filters, tokens by hash, and purging old history")
    func auditTokensPurge() throws {
        let (store, _) = try store()
        try store.append(AuditRecord(action: .policyDenied, user: "U1", command: "x", outcome: "denied"), at: 10)
        try store.append(AuditRecord(action: .policyAllowed, user: "U2", command: "y", outcome: "allowed"), at: 20)
        #expect(try store.audit(AuditQuery(user: "U2")).map(\.record.action) == [.policyAllowed])
        #expect(try store.audit(AuditQuery(since: 15)).count == 1)
        try store.saveToken(APIToken(name: "laptop", user: "U1", hash: "abc", createdAt: 1))
        #expect(try store.token(hash: "abc")?.user == "U1")
        #expect(try store.revokeToken(name: "laptop"))
        #expect(try store.token(hash: "abc")?.revoked == true)
        _ = try store.insert(job(), children: [], secrets: nil)
        _ = try store.start(1, agent: "a", at: 1)
        _ = try store.finish(1, attempt: 1, outcome: JobOutcome(status: .succeeded), at: 2)
        #expect(try store.purge(before: 15) == 1)
        #expect(try store.job(1) == nil)
        #expect(try store.audit(AuditQuery()).count == 1)
    }

    @Test("a database of an earlier release (schema 2) is upgraded in place, its rows kept")
    func upgradeFromSchema2() throws {
        let (store, path) = try store()
        let (queued, _) = try store.insert(job(), children: [], secrets: nil)
        // What schema 2 looked like: no event ledger, dialogs without the waiting mark and kept
        // as plain JSON, jobs without sealed secrets or hand-back columns.
        try store.database.execute(
            """
            DROP TABLE chat_events; DROP INDEX dialogs_waiting; ALTER TABLE dialogs DROP COLUMN waiting;
            ALTER TABLE jobs DROP COLUMN secrets; ALTER TABLE jobs DROP COLUMN not_before;
            ALTER TABLE jobs DROP COLUMN handbacks; ALTER TABLE jobs DROP COLUMN confirmed;
            DROP INDEX jobs_origin; ALTER TABLE jobs DROP COLUMN origin;
            PRAGMA user_version = 2
            """)
        var waiting = Dialog(id: "d1", user: "U1", channel: "C1", now: 10)
        waiting.phase = .menu
        let json = String(decoding: try JSONEncoder().encode(waiting), as: UTF8.self)
        try store.database.query("INSERT INTO dialogs (id, user, state, updated_at) VALUES ('d1', 'U1', ?, 10)", [.text(json)])
        let upgraded = try reopen(path)
        #expect(try upgraded.database.query("PRAGMA user_version").first?.int(0) == 6)
        #expect(try upgraded.job(queued.id)?.command == "hello")
        let legacy = try #require(try upgraded.dialog("d1"))
        #expect(legacy.user == "U1")
        // Old dialogs are not marked waiting (they still expire when clicked); new saves are,
        // and are sealed from then on.
        #expect(try upgraded.idleDialogs(before: 100, limit: 10).isEmpty)
        try upgraded.save(legacy)
        #expect(try upgraded.idleDialogs(before: 100, limit: 10) == ["d1"])
        #expect(try upgraded.database.query("SELECT state FROM dialogs").first?.blob(0).first != UInt8(ascii: "{"))
        #expect(try upgraded.firstSighting(ofEvent: "Ev1", at: 1, forgetBefore: 0))
    }

    @Test("secrets are sealed with their job, opened only with the key, and erased when it ends")
    func sealedSecrets() throws {
        let (store, path) = try store()
        let secrets = JobSecrets(arguments: ["password": "hunter2 %20\n–ü"], code: "123456")
        let (stored, _) = try store.insert(job(), children: [], secrets: secrets)
        #expect(try store.secrets(of: stored.id) == secrets)
        // Nowhere in the file in clear.
        let bytes = try Data(contentsOf: URL(fileURLWithPath: path)) + ((try? Data(contentsOf: URL(fileURLWithPath: path + "-wal"))) ?? Data())
        #expect(bytes.range(of: Data("hunter2".utf8)) == nil && bytes.range(of: Data("123456".utf8)) == nil)
        // Another key cannot open them: the job must fail, not run with a mask.
        let stranger = try SQLiteStore(path: path, sealer: AESGCMSealer(key: SymmetricKey(size: .bits256)))
        #expect(throws: SealError.unreadable) { try stranger.secrets(of: stored.id) }
        // A sealed value moved to another row does not open there.
        let (other, _) = try store.insert(job(), children: [], secrets: nil)
        try store.database.execute("UPDATE jobs SET secrets = (SELECT secrets FROM jobs WHERE id = \(stored.id)) WHERE id = \(other.id)")
        #expect(throws: SealError.unreadable) { try store.secrets(of: other.id) }
        // A hand-back keeps them; the end erases them.
        _ = try store.start(stored.id, agent: "a", at: 1)
        #expect(try store.requeue(stored.id, attempt: 1, notBefore: 50))
        #expect(try store.job(stored.id)?.notBefore == 50)
        #expect(try store.handbacks(stored.id) == 1)
        #expect(try store.secrets(of: stored.id) == secrets)
        _ = try store.start(stored.id, agent: "a", at: 60)
        _ = try store.finish(stored.id, attempt: 2, outcome: JobOutcome(status: .succeeded), at: 61)
        #expect(try store.secrets(of: stored.id) == nil)
    }

    @Test("a start is confirmed once per attempt; a store without the key refuses secrets and dialogs")
    func confirmationsAndNoKey() throws {
        let (store, path) = try store()
        let (stored, _) = try store.insert(job(), children: [], secrets: nil)
        _ = try store.start(stored.id, agent: "a", at: 1)
        #expect(try !store.confirmStarted(stored.id, attempt: 2))
        #expect(try store.confirmStarted(stored.id, attempt: 1))
        #expect(try store.job(stored.id)?.confirmed == true)
        let keyless = try SQLiteStore(path: path)
        #expect(throws: SealError.self) { try keyless.insert(job(), children: [], secrets: JobSecrets(code: "1")) }
        #expect(throws: SealError.self) { try keyless.save(Dialog(id: "d", user: "U", channel: nil, now: 1)) }
    }

    @Test("output windows near Int.max read nothing instead of trapping")
    func outputBounds() throws {
        let (store, _) = try store()
        _ = try store.insert(job(), children: [], secrets: nil)
        try store.appendOutput(1, Array("hello".utf8), limit: 100)
        for (offset, limit) in [(Int.max, 1 << 20), (Int.max - 1, Int.max), (0, Int.max), (-1, 10), (3, -5), (Int.min, Int.min)] {
            _ = try store.output(1, from: offset, limit: limit)
        }
        #expect(try store.output(1, from: 0, limit: Int.max) == Array("hello".utf8))
        #expect(try store.output(1, from: 3, limit: Int.max) == Array("lo".utf8))
    }

    @Test("a database from a newer build is refused")
    func newerSchema() throws {
        let (store, path) = try store()
        try store.database.execute("PRAGMA user_version = 99")
        #expect(throws: SQLiteError.self) { try SQLiteStore(path: path) }
    }
}
