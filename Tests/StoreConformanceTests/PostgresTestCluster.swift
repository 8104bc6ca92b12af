import Foundation
import Logging
import Synchronization

@testable import MeeseeksPostgres

#if canImport(Glibc)
    import Glibc
#endif

/// One throwaway PostgreSQL cluster per test process (`scripts/postgres-test-cluster`), started by
/// the first test that needs it, and a new database for every `TestDatabase`.
///
/// The parts of MeeseeksPostgresTests' `PostgresTestCluster` this target needs (a test target
/// cannot import another). Nothing outlives the process: `atexit` stops the cluster, and the
/// script's `--owner-pid` watcher does it if the process dies first. Without PostgreSQL, every
/// PostgreSQL case fails with the script's message rather than passing unseen.
enum PostgresTestCluster {
    struct Unavailable: Error, CustomStringConvertible {
        var description: String
    }

    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().path

    private static let cluster: Result<PostgresSettings, Unavailable> = start()

    /// The administrator's connections (CREATE and DROP DATABASE); they go with the process.
    private static let admin: Result<BlockingConnectionPool, any Error> = Result {
        try BlockingConnectionPool(
            settings: try cluster.get(), logger: Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() }))
    }

    private static let databaseCount = Atomic<Int>(0)

    /// Settings for a new, empty database.
    static func freshDatabase() throws -> PostgresSettings {
        let pool = try admin.get()
        let name = "conformance_\(getpid())_\(databaseCount.wrappingAdd(1, ordering: .relaxed).oldValue)"
        try pool.withConnection { try $0.query("CREATE DATABASE \(name)") }
        var settings = try cluster.get()
        settings.database = name
        return settings
    }

    /// Drops a database `freshDatabase` made, so a long run does not fill the disk with them.
    static func drop(_ settings: PostgresSettings) throws {
        // FORCE: a closed connection's server process may not have ended yet.
        try admin.get().withConnection { try $0.query("DROP DATABASE IF EXISTS \(settings.database) WITH (FORCE)") }
    }

    private static let clusterDirectory = Mutex<String?>(nil)

    private static func start() -> Result<PostgresSettings, Unavailable> {
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
            return .success(try PostgresSettings(url: lines[0]))
        } catch {
            return .failure(Unavailable(description: "the test cluster printed an unreadable URL: \(error)"))
        }
    }

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

/// What a program printed and how it ended.
struct ProgramResult {
    var status: Int32
    var output: String
    var errors: String
}

/// Runs a program to its end with `posix_spawn` and `waitpid`, its output in temporary files.
///
/// Not Foundation's `Process`: on Linux its `waitUntilExit` is woken through the global dispatch
/// queue, which is also the cooperative pool the tests run (and block) on.
func runProgram(_ path: String, _ arguments: [String]) throws -> ProgramResult {
    let base = "\(FileManager.default.temporaryDirectory.path)/program-\(UUID().uuidString)"
    let outputPath = base + ".out"
    let errorsPath = base + ".err"
    defer {
        unlink(outputPath)
        unlink(errorsPath)
    }
    var actions = posix_spawn_file_actions_t()
    posix_spawn_file_actions_init(&actions)
    defer { posix_spawn_file_actions_destroy(&actions) }
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
    posix_spawn_file_actions_addopen(&actions, 1, outputPath, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
    posix_spawn_file_actions_addopen(&actions, 2, errorsPath, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
    let argv = ([path] + arguments).map { strdup($0) } + [nil]
    let envp = ProcessInfo.processInfo.environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
    defer {
        argv.forEach { free($0) }
        envp.forEach { free($0) }
    }
    var pid = pid_t()
    let spawned = posix_spawn(&pid, path, &actions, nil, argv, envp)
    guard spawned == 0 else {
        throw PostgresTestCluster.Unavailable(description: "cannot run \(path): \(String(cString: strerror(spawned)))")
    }
    var status: Int32 = 0
    while waitpid(pid, &status, 0) == -1, errno == EINTR {}
    // WIFEXITED / WEXITSTATUS, which Swift does not import; a signal reads as 128 + its number.
    let exitStatus = status & 0x7f == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f)
    func read(_ path: String) -> String {
        String(decoding: FileManager.default.contents(atPath: path) ?? Data(), as: UTF8.self)
    }
    return ProgramResult(status: exitStatus, output: read(outputPath), errors: read(errorsPath))
}
