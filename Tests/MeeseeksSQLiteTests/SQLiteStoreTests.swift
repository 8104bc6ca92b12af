import Foundation
import MeeseeksCore
import MeeseeksSQLite
import Testing

@Suite("The SQLite store")
struct SQLiteStoreTests {
    func store() throws -> (SQLiteStore, String) {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("store-\(UUID().uuidString).db").path
        return (try SQLiteStore(path: path), path)
    }

    func job(_ command: String = "hello", agent: String? = nil) -> Job {
        Job(command: command, arguments: ["who": "world"], requester: "U1", agent: agent, createdAt: 1000)
    }

    @Test("jobs are stored, started once, and finished once per attempt")
    func lifecycle() throws {
        let (store, _) = try store()
        let (stored, _) = try store.insert(job(), children: [])
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
        let (p, children) = try store.insert(parent, children: [job(agent: "a1"), job(agent: "a2")])
        #expect(children.map(\.parentID) == [p.id, p.id])
        _ = try store.start(children[0].id, agent: "a1", at: 1001)
        #expect(try store.requeue(children[0].id, attempt: 1))
        #expect(try store.job(children[0].id)?.agent == "a1")
        #expect(try store.requeue(children[0].id, attempt: 1) == false)
    }

    @Test("output is capped with one marker, and read back by offset")
    func output() throws {
        let (store, _) = try store()
        _ = try store.insert(job(), children: [])
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
        let reopened = try SQLiteStore(path: path)
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
        let reopened = try SQLiteStore(path: path)
        #expect(try !reopened.firstSighting(ofEvent: "Ev1", at: 200, forgetBefore: 50))
        #expect(try reopened.firstSighting(ofEvent: "Ev2", at: 200, forgetBefore: 50))
        // An hour later Slack has long stopped retrying: the id is dropped, and new again.
        #expect(try reopened.firstSighting(ofEvent: "Ev1", at: 3800, forgetBefore: 200))
    }

    @Test("audit filters, tokens by hash, and purging old history")
    func auditTokensPurge() throws {
        let (store, _) = try store()
        try store.append(AuditRecord(action: "policy.denied", user: "U1", command: "x", outcome: "denied"), at: 10)
        try store.append(AuditRecord(action: "policy.allowed", user: "U2", command: "y", outcome: "allowed"), at: 20)
        #expect(try store.audit(AuditQuery(user: "U2")).map(\.record.action) == ["policy.allowed"])
        #expect(try store.audit(AuditQuery(since: 15)).count == 1)
        try store.saveToken(APIToken(name: "laptop", user: "U1", hash: "abc", createdAt: 1))
        #expect(try store.token(hash: "abc")?.user == "U1")
        #expect(try store.revokeToken(name: "laptop"))
        #expect(try store.token(hash: "abc")?.revoked == true)
        _ = try store.insert(job(), children: [])
        _ = try store.start(1, agent: "a", at: 1)
        _ = try store.finish(1, attempt: 1, outcome: JobOutcome(status: .succeeded), at: 2)
        #expect(try store.purge(before: 15) == 1)
        #expect(try store.job(1) == nil)
        #expect(try store.audit(AuditQuery()).count == 1)
    }

    @Test("a database of the previous release (schema 2) is upgraded in place, its rows kept")
    func upgradeFromSchema2() throws {
        let (store, path) = try store()
        let (queued, _) = try store.insert(job(), children: [])
        var waiting = Dialog(id: "d1", user: "U1", channel: "C1", now: 10)
        waiting.phase = .menu
        try store.save(waiting)
        // What schema 2 looked like: no event ledger, dialogs without the waiting mark.
        try store.database.execute("DROP TABLE chat_events; DROP INDEX dialogs_waiting; ALTER TABLE dialogs DROP COLUMN waiting; PRAGMA user_version = 2")
        let upgraded = try SQLiteStore(path: path)
        #expect(try upgraded.database.query("PRAGMA user_version").first?.int(0) == 4)
        #expect(try upgraded.job(queued.id)?.command == "hello")
        #expect(try upgraded.dialog("d1")?.user == "U1")
        // Old dialogs are not marked waiting (they still expire when clicked); new saves are.
        #expect(try upgraded.idleDialogs(before: 100, limit: 10).isEmpty)
        try upgraded.save(waiting)
        #expect(try upgraded.idleDialogs(before: 100, limit: 10) == ["d1"])
        #expect(try upgraded.firstSighting(ofEvent: "Ev1", at: 1, forgetBefore: 0))
    }

    @Test("a database from a newer build is refused")
    func newerSchema() throws {
        let (store, path) = try store()
        try store.database.execute("PRAGMA user_version = 99")
        #expect(throws: SQLiteError.self) { try SQLiteStore(path: path) }
    }
}
