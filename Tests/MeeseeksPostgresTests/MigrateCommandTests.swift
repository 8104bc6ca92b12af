import Crypto
import Foundation
import MeeseeksCore
import MeeseeksLabels
import MeeseeksSQLite
import MeeseeksVault
import Testing

@testable import MeeseeksPostgres

/// `meeseeks migrate`, run as the built binary, as users run it.
@Suite("meeseeks migrate")
struct MigrateCommandTests {
    let sealer = AESGCMSealer(key: SymmetricKey(size: .bits256))

    static var binary: String {
        let directory = ProcessInfo.processInfo.environment["MEESEEKS_BIN_DIR"] ?? "\(PostgresTestCluster.repository)/.build/debug"
        return "\(directory)/meeseeks"
    }

    /// Runs `meeseeks` with `arguments`; the password goes through PGPASSWORD.
    func meeseeks(_ arguments: [String], password: String) throws -> ProgramResult {
        guard FileManager.default.isExecutableFile(atPath: Self.binary) else {
            throw PostgresTestCluster.Unavailable(description: "\(Self.binary) is not built: run `swift build` first")
        }
        return try runProgram(
            Self.binary, arguments, environment: ProcessInfo.processInfo.environment.merging(["PGPASSWORD": password]) { $1 })
    }

    /// A SQLite store with some of everything.
    func populatedSQLite() throws -> (SQLiteStore, String) {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("migrate-\(UUID().uuidString).db").path
        let store = try SQLiteStore(path: path, sealer: sealer)
        var parent = Job(command: "deploy", arguments: ["env": "prod"], requester: "U1", channel: "C1", createdAt: 10, origin: "inbox:3")
        parent.isBroadcast = true
        let child = Job(command: "deploy", arguments: ["env": "prod"], requester: "U1", agent: "a1", createdAt: 10)
        let (_, children) = try store.insert(parent, children: [child, child], secrets: JobSecrets(arguments: ["token": "s3cret"]))
        _ = try store.start(children[0].id, agent: "a1", at: 11)
        _ = try store.confirmStarted(children[0].id, attempt: 1)
        try store.appendOutput(children[0].id, Array("line one\n".utf8), limit: 1 << 20)
        try store.appendOutput(children[0].id, Array("line two\n".utf8), limit: 1 << 20)
        _ = try store.finish(children[0].id, attempt: 1, outcome: JobOutcome(status: .failed, exitCode: 3, reason: "exit 3"), at: 12)
        _ = try store.start(children[1].id, agent: "a1", at: 13)
        _ = try store.requeue(children[1].id, attempt: 1, notBefore: 20)
        for index in 0..<1200 {
            _ = try store.insert(
                Job(command: "ping", arguments: [:], requester: "U\(index % 3)", createdAt: Double(index)), children: [], secrets: nil)
        }
        var dialog = Dialog(id: "d1", user: "U1", channel: "C1", now: 30)
        dialog.phase = .menu
        try store.save(dialog)
        try store.save(
            AgentRecord(
                id: "a1", hostname: "h1", labels: LabelSet(["os": "linux"]), commands: ["deploy"], slots: 2, version: "1", connected: false,
                lastSeen: 40))
        try store.append(AuditRecord(action: .policyAllowed, user: "U1", command: "deploy", outcome: "allowed", jobID: 1), at: 50)
        try store.saveToken(APIToken(name: "laptop", user: "U1", hash: "abc", createdAt: 60, revoked: true))
        let delivered = try store.enqueue(
            OutboxMessage(orderKey: "C1", operation: .post, payload: Array("hi".utf8), channel: "C1", messageKey: "m1", createdAt: 70))
        try store.markDelivered(delivered)
        _ = try store.enqueue(
            OutboxMessage(
                orderKey: "C1", operation: .update, payload: Array("bye".utf8), channel: "C1", messageKey: "m1", attempts: 2, notBefore: 80,
                createdAt: 71))
        try store.setMessageReference("m1", channel: "C1", ts: "1.5")
        _ = try store.firstSighting(ofEvent: "Ev1", at: 90, forgetBefore: 0)
        return (store, path)
    }

    @Test("copies a box's history, ids and sealed secrets as they are, and reports counts")
    func copies() throws {
        let (source, path) = try populatedSQLite()
        defer { ["", "-wal", "-shm"].forEach { unlink(path + $0) } }
        let target = try PostgresTestCluster.freshDatabase()
        let url = "postgres://\(target.user)@\(target.host):\(target.port)/\(target.database)"
        let run = try meeseeks(["migrate", "--from", "sqlite:\(path)", "--to", url], password: target.password ?? "")
        #expect(run.status == 0, "\(run.errors)")
        #expect(run.output.contains("copied \(path) into \(url):"))
        #expect(run.output.contains("jobs          1203"), "\(run.output)")
        #expect(run.output.contains("job_output    2"))
        #expect(run.output.contains("outbox        2"))
        #expect(!run.output.contains(target.password ?? "-"))

        let store = try PostgresStore(settings: target, sealer: sealer)
        defer { store.close() }
        let everything = JobQuery(limit: 5000)
        #expect(try store.jobs(everything) == source.jobs(everything))
        for id in Int64(1)...3 {
            #expect(try store.output(id, from: 0, limit: 1000) == source.output(id, from: 0, limit: 1000))
            #expect(try store.outputSize(id) == source.outputSize(id))
            #expect(try store.handbacks(id) == source.handbacks(id))
            #expect(try store.secrets(of: id) == source.secrets(of: id))
        }
        #expect(try store.secrets(of: 3)?.arguments == ["token": "s3cret"])
        #expect(try store.dialog("d1") == source.dialog("d1"))
        #expect(try store.idleDialogs(before: 100, limit: 10) == ["d1"])
        #expect(try store.agents() == source.agents())
        #expect(try store.audit(AuditQuery()) == source.audit(AuditQuery()))
        #expect(try store.tokens() == source.tokens())
        #expect(try store.outboxHeads(limit: 10) == source.outboxHeads(limit: 10))
        #expect(try store.outboxDepth() == 1)
        #expect(try store.messageReference("m1")?.ts == "1.5")
        #expect(try !store.firstSighting(ofEvent: "Ev1", at: 91, forgetBefore: 0))
        // New rows get ids after the copied ones.
        let (next, _) = try store.insert(Job(command: "x", arguments: [:], requester: "U1", createdAt: 100), children: [], secrets: nil)
        #expect(next.id == 1204)
        #expect(
            try store.enqueue(OutboxMessage(orderKey: "C2", operation: .post, payload: [], channel: "C2", messageKey: nil, createdAt: 1))
                == 3)
        try store.append(AuditRecord(action: .policyDenied, user: "U2", outcome: "denied"), at: 99)
        #expect(try store.audit(AuditQuery()).map(\.id) == [1, 2])
        // The same request is still one job.
        #expect(
            try store.insert(
                Job(command: "deploy", arguments: [:], requester: "U1", createdAt: 1, origin: "inbox:3"), children: [], secrets: nil
            ).0.id == 1)

        // A second copy into the same database is refused and changes nothing.
        let again = try meeseeks(["migrate", "--from", path, "--to", url], password: target.password ?? "")
        #expect(again.status != 0)
        #expect(again.errors.contains("already holds history"), "\(again.errors)")
        #expect(try store.jobs(JobQuery(limit: 5000)).count == 1204)
    }

    @Test("--help says the secret key must be the same")
    func help() throws {
        let run = try meeseeks(["migrate", "--help"], password: "")
        #expect(run.status == 0)
        #expect(run.output.split(whereSeparator: \.isWhitespace).joined(separator: " ").contains("must use the same secret key"))
    }
}
