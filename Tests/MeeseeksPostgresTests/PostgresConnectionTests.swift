import Foundation
import Logging
import Synchronization
import Testing

@testable import MeeseeksPostgres

@Suite("PostgreSQL settings from a URL")
struct PostgresSettingsTests {
    static let goodURLs: [(String, String, String, String, Int, String, PostgresSettings.TLSMode)] = [
        ("postgres://u:p%40ss@h:5433/db?sslmode=require", "u", "p@ss", "h", 5433, "db", .require),
        ("postgresql://u@h/db", "u", "from-env", "h", 5432, "db", .disable),
        ("postgres://u@[::1]:6000/d%20b?sslmode=verify-full&sslrootcert=/ca.pem", "u", "from-env", "::1", 6000, "d b", .verifyFull),
        ("postgres://u:@h:1/db?sslmode=disable", "u", "", "h", 1, "db", .disable),
    ]

    @Test("good URLs", arguments: goodURLs)
    func good(url: String, user: String, password: String, host: String, port: Int, database: String, tls: PostgresSettings.TLSMode) throws
    {
        let settings = try PostgresSettings(url: url, environment: ["PGPASSWORD": "from-env"])
        #expect(settings.user == user && settings.password == password && settings.host == host)
        #expect(settings.port == port && settings.database == database && settings.tls == tls)
        #expect(!settings.description.contains("p@ss") && !settings.description.contains("from-env"))
    }

    @Test(
        "bad URLs are refused, saying why and never showing the password",
        arguments: [
            ("mysql://u:secret@h/db", "must start with postgres://"),
            ("postgres://secret@h:5432", "names no database"),
            ("postgres://h:5432/db", "names no user"),
            ("postgres://u:secret@h:99999/db", "port '99999'"),
            ("postgres://u:secret@h/db?sslmode=prefer", "sslmode 'prefer' is not one of disable, require, verify-full"),
            ("postgres://u:secret@h/db?pool=3", "unknown parameter 'pool'"),
            ("postgres://u:secret@/db", "names no host"),
        ])
    func bad(url: String, expected: String) {
        let error = #expect(throws: PostgresStoreError.self) { try PostgresSettings(url: url, environment: [:]) }
        #expect(error?.code == .invalidURL)
        #expect(error?.description.contains(expected) == true, "\(error.map(String.init(describing:)) ?? "")")
        #expect(error?.description.contains("secret") == false)
    }
}

@Suite("PostgreSQL connections")
struct PostgresConnectionTests {
    let logger = Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() })

    @Test("a wrong password or database fails with context, never with the password")
    func connectionErrors() throws {
        var settings = try PostgresTestCluster.freshDatabase()
        settings.password = "not-the-password-42"
        let wrongPassword = #expect(throws: PostgresStoreError.self) { try PostgresStore(settings: settings) }
        #expect(wrongPassword?.code == .connectionFailed)
        #expect(wrongPassword?.message.contains("connecting to \(settings)") == true)
        #expect(wrongPassword?.message.contains("password authentication failed") == true, "\(wrongPassword?.message ?? "")")
        #expect(wrongPassword?.description.contains("not-the-password-42") == false)
        var unknown = try PostgresTestCluster.freshDatabase()
        unknown.database = "no_such_database"
        let missing = #expect(throws: PostgresStoreError.self) { try PostgresStore(settings: unknown) }
        #expect(missing?.message.contains("does not exist") == true, "\(missing?.message ?? "")")
        #expect(missing?.description.contains(unknown.password ?? "-") == false)
        var refused = unknown
        refused.port = 1
        #expect(throws: PostgresStoreError.self) { try PostgresStore(settings: refused) }
    }

    @Test("the pool never opens more than its size, and waits for a free connection")
    func bounded() throws {
        var settings = try PostgresTestCluster.freshDatabase()
        settings.poolSize = 2
        settings.applicationName = "bounded-\(UUID().uuidString.prefix(8))"
        let pool = try BlockingConnectionPool(settings: settings, logger: logger)
        defer { pool.close() }
        let applicationName = settings.applicationName
        let started = Date()
        let counts = concurrently(6) { _ in
            try pool.withConnection { session in
                try session.query(
                    "SELECT (SELECT COUNT(*) FROM pg_stat_activity WHERE application_name = $1), pg_sleep(0.2)",
                    [.text(applicationName)]
                ).rows.first?.int(0) ?? 0
            }
        }
        let seen = try counts.map { try $0.get() }
        #expect(seen.allSatisfy { $0 >= 1 && $0 <= 2 })
        #expect(Date().timeIntervalSince(started) >= 0.55)
    }

    @Test("a caller that waits longer than the checkout timeout fails instead of hanging")
    func exhausted() throws {
        var settings = try PostgresTestCluster.freshDatabase()
        settings.poolSize = 1
        settings.checkoutTimeout = .milliseconds(200)
        let pool = try BlockingConnectionPool(settings: settings, logger: logger)
        defer { pool.close() }
        let results = concurrently(2) { index in
            if index == 1 { Thread.sleep(forTimeInterval: 0.05) }
            return try pool.withConnection { try $0.query("SELECT pg_sleep(0.6)").rows.count }
        }
        let failures = results.compactMap { result -> PostgresStoreError? in
            if case .failure(let error) = result { return error as? PostgresStoreError }
            return nil
        }
        #expect(failures.map(\.code) == [.poolExhausted])
    }

    @Test("a connection killed while idle or mid-statement is replaced")
    func brokenConnections() throws {
        var settings = try PostgresTestCluster.freshDatabase()
        settings.poolSize = 1
        settings.applicationName = "broken-\(UUID().uuidString.prefix(8))"
        let store = try PostgresStore(settings: settings)
        let admin = try PostgresStore(settings: PostgresTestCluster.freshDatabase())
        defer {
            store.close()
            admin.close()
        }
        let applicationName = settings.applicationName
        @Sendable func kill() throws -> Int {
            try admin.pool.withConnection { session in
                try session.query(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1", [.text(applicationName)]
                ).rows.count
            }
        }
        #expect(try store.outboxDepth() == 0)
        #expect(try kill() == 1)
        Thread.sleep(forTimeInterval: 0.2)
        #expect(try store.outboxDepth() == 0)
        let results = concurrently(2) { index in
            if index == 0 { return try store.pool.withConnection { try $0.query("SELECT pg_sleep(5)").rows.count } }
            Thread.sleep(forTimeInterval: 0.3)
            return try kill()
        }
        let error = #expect(throws: PostgresStoreError.self) { try results[0].get() }
        #expect(error?.code == .connectionLost)
        #expect(try store.outboxDepth() == 0)
    }

    @Test("a statement over the timeout fails, and the next one runs on a new connection")
    func statementTimeout() throws {
        var settings = try PostgresTestCluster.freshDatabase()
        settings.poolSize = 1
        settings.statementTimeout = .milliseconds(300)
        let pool = try BlockingConnectionPool(settings: settings, logger: logger)
        defer { pool.close() }
        let started = Date()
        let error = #expect(throws: PostgresStoreError.self) { try pool.withConnection { try $0.query("SELECT pg_sleep(3)") } }
        #expect(error?.code == .timedOut)
        #expect(Date().timeIntervalSince(started) < 2)
        #expect(try pool.withConnection { try $0.query("SELECT 1").rows.count } == 1)
    }

    @Test("a transaction runs on one connection and is rolled back when its body throws")
    func transactions() throws {
        let store = try TestDatabase().open()
        defer { store.close() }
        let pids = try store.pool.transaction { session in
            try (0..<3).map { _ in try session.query("SELECT pg_backend_pid()").rows.first?.int(0) }
        }
        #expect(Set(pids).count == 1)
        struct Refused: Error {}
        #expect(throws: Refused.self) {
            try store.pool.transaction { session in
                try session.query("INSERT INTO agents (id, state) VALUES ('a', '{}')")
                throw Refused()
            }
        }
        #expect(try store.pool.withConnection { try $0.query("SELECT COUNT(*) FROM agents").rows.first?.int(0) } == 0)
        // A refused statement leaves the connection usable.
        #expect(throws: PostgresStoreError.self) { try store.pool.withConnection { try $0.query("SELECT nonsense FROM nowhere") } }
        #expect(try store.outboxDepth() == 0)
    }

    @Test(
        "TLS: require encrypts; verify-full checks the certificate and the host",
        arguments: [
            ("127.0.0.1", "require", false, true),
            ("127.0.0.1", "verify-full", true, true),
            ("localhost", "verify-full", true, true),
            ("127.0.0.1", "verify-full", false, false),
            ("127.0.0.1", "disable", false, true),
        ])
    func tls(host: String, mode: String, trustTheCertificate: Bool, connects: Bool) throws {
        let plain = try PostgresTestCluster.freshDatabase()
        let rootCertificate = trustTheCertificate ? "&sslrootcert=\(try PostgresTestCluster.directory())/server.crt" : ""
        let url = "postgres://\(plain.user)@\(host):\(plain.port)/\(plain.database)?sslmode=\(mode)\(rootCertificate)"
        let settings = try PostgresSettings(url: url, environment: ["PGPASSWORD": plain.password ?? ""])
        guard connects else {
            let error = #expect(throws: PostgresStoreError.self) { try PostgresStore(settings: settings) }
            #expect(error?.code == .connectionFailed)
            return
        }
        let store = try PostgresStore(settings: settings)
        defer { store.close() }
        let encrypted = try store.pool.withConnection {
            try $0.query("SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()").rows.first?.bool(0)
        }
        #expect(encrypted == (mode != "disable"))
    }
}
