import Foundation
import Logging
import Synchronization

@testable import MeeseeksPostgres

/// One throwaway PostgreSQL cluster per test process (`scripts/postgres-test-cluster`), started
/// by the first test that needs it, and a new database for every store a test opens.
///
/// Nothing outlives the process: an `atexit` handler stops the cluster (`pg_ctl stop -m
/// immediate`) and removes its folder, and the script's watcher does the same if the process
/// dies without running it. When PostgreSQL is not installed, every test that needs it fails
/// with the script's message: these tests never pass without a real database.
enum PostgresTestCluster {
    struct Unavailable: Error, CustomStringConvertible {
        var description: String
    }

    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().path

    /// The administrator's settings (database `postgres`), or why there is no cluster.
    private static let cluster: Result<(settings: PostgresSettings, directory: String), Unavailable> = start()

    /// Runs the administrator's statements (CREATE DATABASE…); never closed: it goes with the process.
    private static let admin: Result<BlockingConnectionPool, any Error> = Result {
        try BlockingConnectionPool(
            settings: try cluster.get().settings, logger: Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() }))
    }

    private static let databaseCount = Atomic<Int>(0)

    /// The cluster's folder (its certificate is `server.crt` there).
    static func directory() throws -> String { try cluster.get().directory }

    /// Settings for a new, empty database.
    static func freshDatabase() throws -> PostgresSettings {
        let pool = try admin.get()
        let name = "test_\(getpid())_\(databaseCount.wrappingAdd(1, ordering: .relaxed).oldValue)"
        try pool.withConnection { try $0.query("CREATE DATABASE \(name)") }
        var settings = try cluster.get().settings
        settings.database = name
        return settings
    }

    /// `freshDatabase()` as a URL, password included.
    static func freshURL() throws -> String {
        let settings = try freshDatabase()
        return "postgres://\(settings.user):\(settings.password ?? "")@\(settings.host):\(settings.port)/\(settings.database)"
    }

    private static func start() -> Result<(settings: PostgresSettings, directory: String), Unavailable> {
        let script = "\(repository)/scripts/postgres-test-cluster"
        let run: ProgramResult
        do {
            run = try runProgram(script, ["start", "--owner-pid", String(getpid())])
        } catch {
            return .failure(Unavailable(description: "cannot run \(script): \(error)"))
        }
        let lines = run.output.split(separator: "\n").map(String.init)
        guard run.status == 0, lines.count == 2 else {
            return .failure(Unavailable(description: "no PostgreSQL for the tests: \(run.errors.isEmpty ? run.output : run.errors)"))
        }
        clusterDirectory.withLock { $0 = lines[1] }
        atexit { PostgresTestCluster.stop() }
        do {
            return .success((try PostgresSettings(url: lines[0]), lines[1]))
        } catch {
            return .failure(Unavailable(description: "the test cluster printed an unreadable URL: \(error)"))
        }
    }

    private static let clusterDirectory = Mutex<String?>(nil)

    /// Stops the cluster and removes its folder (at exit).
    static func stop() {
        guard
            let directory = clusterDirectory.withLock({ directory in
                defer { directory = nil }
                return directory
            })
        else { return }
        do {
            _ = try runProgram("\(repository)/scripts/postgres-test-cluster", ["stop", directory])
        } catch {
            // The watcher started with the cluster stops it once this process is gone.
            FileHandle.standardError.write(Data("cannot stop the test cluster in \(directory): \(error)\n".utf8))
        }
    }
}
