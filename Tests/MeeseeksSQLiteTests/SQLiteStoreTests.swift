import Crypto
import Foundation
import MeeseeksCore
import MeeseeksSQLite
import MeeseeksVault
import Testing

/// What only SQLite has: its file, its schema and its upgrades. The ports' contracts are tested
/// for every store in `StoreConformanceTests`.
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
            DROP INDEX jobs_origin; ALTER TABLE jobs DROP COLUMN origin; DROP TABLE agent_credentials; DROP TABLE approvals;
            DROP INDEX message_refs_updated; ALTER TABLE message_refs DROP COLUMN updated_at; DROP TABLE inbox;
            PRAGMA user_version = 2
            """)
        var waiting = Dialog(id: "d1", user: "U1", channel: "C1", now: 10)
        waiting.phase = .menu
        let json = String(decoding: try JSONEncoder().encode(waiting), as: UTF8.self)
        try store.database.query("INSERT INTO dialogs (id, user, state, updated_at) VALUES ('d1', 'U1', ?, 10)", [.text(json)])
        let upgraded = try reopen(path)
        #expect(try upgraded.database.query("PRAGMA user_version").first?.int(0) == 10)
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
        #expect(try upgraded.credentials().isEmpty)
    }

    @Test("step 8 rebuilds the jobs table: rows, output, ids still to come and foreign keys survive")
    func upgradeFromSchema7() throws {
        let (store, path) = try store()
        let (parent, children) = try store.insert(job(), children: [job(agent: "a1")], secrets: nil)
        let (last, _) = try store.insert(job("bye"), children: [], secrets: JobSecrets(code: "123456"))
        try store.appendOutput(last.id, Array("hello\n".utf8), limit: 1000)
        // The newest job is purged, as history is: its id must not be given again.
        let (gone, _) = try store.insert(job(), children: [], secrets: nil)
        try store.database.execute(
            """
            DELETE FROM jobs WHERE id = \(gone.id); DROP TABLE approvals;
            DROP INDEX message_refs_updated; ALTER TABLE message_refs DROP COLUMN updated_at; DROP TABLE inbox;
            PRAGMA user_version = 7
            """)
        let upgraded = try reopen(path)
        #expect(try upgraded.database.query("PRAGMA user_version").first?.int(0) == 10)
        #expect(try upgraded.job(children[0].id)?.parentID == parent.id)
        #expect(try upgraded.secrets(of: last.id)?.code == "123456")
        #expect(try upgraded.output(last.id, from: 0, limit: 100) == Array("hello\n".utf8))
        #expect(try upgraded.insert(job(), children: [], secrets: nil).0.id == gone.id + 1)
        #expect(try upgraded.database.query("PRAGMA foreign_keys").first?.int(0) == 1)
        #expect(try upgraded.database.query("PRAGMA foreign_key_check").isEmpty)
        // The cascade still holds: a purged job takes its output with it.
        _ = try upgraded.finish(last.id, attempt: nil, outcome: JobOutcome(status: .succeeded), at: 1001)
        _ = try upgraded.purge(before: 5000)
        #expect(try upgraded.database.query("SELECT COUNT(*) FROM job_output").first?.int(0) == 0)
    }

    @Test("the inbox: a request is stored sealed, once per event id, claimed again by a later run until answered")
    func inbox() throws {
        let (store, path) = try store()
        let first = Lease(member: "box", epoch: 100)
        let id = try #require(
            try store.post(InboxRequest(kind: "slack", payload: Array("secret answer".utf8), createdAt: 10, eventID: "Ev1")))
        #expect(try store.post(InboxRequest(kind: "slack", payload: Array("again".utf8), createdAt: 11, eventID: "Ev1")) == nil)
        let other = try #require(try store.post(InboxRequest(kind: "slack", payload: Array("no id".utf8), createdAt: 12)))
        #expect(try store.claim(for: first, limit: 10).map(\.id) == [id, other])
        #expect(try store.claim(for: first, limit: 10).isEmpty)
        try store.answer(id, response: [], lease: first)
        #expect(try store.response(of: id) == [])
        #expect(try store.response(of: other) == nil)
        // A later run (the first was killed) claims what was never answered, payload intact.
        let again = try reopen(path).claim(for: Lease(member: "box", epoch: 200), limit: 10)
        #expect(again.map(\.id) == [other] && again.first?.payload == Array("no id".utf8))
        let file = try Data(contentsOf: URL(fileURLWithPath: path))
        #expect(file.range(of: Data("secret answer".utf8)) == nil)
        #expect(try store.purgeAnswered(before: 11) == 1)
        #expect(try store.post(InboxRequest(kind: "slack", payload: [], createdAt: 20, eventID: "Ev1")) != nil)
    }

    @Test("the sealer opens what it sealed, the empty value included, and nothing shorter or altered")
    func sealerEdges() throws {
        let sealer = AESGCMSealer(key: SymmetricKey(size: .bits256))
        for plaintext in [[], [0], Array("a secret".utf8)] as [[UInt8]] {
            let sealed = try sealer.seal(plaintext, context: "c")
            #expect(try sealer.open(sealed, context: "c") == plaintext)
            #expect(throws: SealError.self) { try sealer.open(sealed, context: "d") }
            #expect(throws: SealError.self) { try sealer.open(Array(sealed.dropLast()), context: "c") }
        }
        #expect(throws: SealError.self) { try sealer.open([], context: "c") }
    }

    @Test("secrets are nowhere in the file in clear, and a sealed value moved to another row does not open")
    func sealedSecretsAtRest() throws {
        let (store, path) = try store()
        let secrets = JobSecrets(arguments: ["password": "hunter2 %20\n–ü"], code: "123456")
        let (stored, _) = try store.insert(job(), children: [], secrets: secrets)
        #expect(try store.secrets(of: stored.id) == secrets)
        let bytes =
            try Data(contentsOf: URL(fileURLWithPath: path)) + ((try? Data(contentsOf: URL(fileURLWithPath: path + "-wal"))) ?? Data())
        #expect(bytes.range(of: Data("hunter2".utf8)) == nil && bytes.range(of: Data("123456".utf8)) == nil)
        let (other, _) = try store.insert(job(), children: [], secrets: nil)
        try store.database.execute("UPDATE jobs SET secrets = (SELECT secrets FROM jobs WHERE id = \(stored.id)) WHERE id = \(other.id)")
        #expect(throws: SealError.unreadable) { try store.secrets(of: other.id) }
    }

    @Test("a database from a newer build is refused")
    func newerSchema() throws {
        let (store, path) = try store()
        try store.database.execute("PRAGMA user_version = 99")
        #expect(throws: SQLiteError.self) { try SQLiteStore(path: path) }
    }
}
