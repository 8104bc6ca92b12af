import Crypto
import Foundation
import MeeseeksCore
import MeeseeksPostgres
import MeeseeksSQLite
import MeeseeksTesting
import MeeseeksVault
import Synchronization
import Testing

/// One implementation of the store ports under test. Every conformance test runs once per
/// factory in `all`: to hold another store to the same contract, append its factory. Suites that
/// use them carry `.closesStores`, which closes what a test opened when it ends.
///
/// Where SQLite's behaviour looks accidental, the suites leave it open rather than make it the
/// contract: negative limits in `jobs`, `audit`, `idleDialogs` and `outboxHeads` (SQLite reads
/// them as no limit; PostgreSQL refuses them); a result for a handed-back attempt while the job
/// is queued again (SQLite ends the job); late output after a job ended (SQLite keeps it); a
/// finished broadcast parent whose children still run (purging it takes them too).
struct StoreFactory: Sendable, CustomTestStringConvertible {
    var name: String
    /// Creates a new, empty database of this implementation.
    var makeDatabase: @Sendable () throws -> TestDatabase

    static let all: [StoreFactory] = [.sqlite, .postgres, .inMemory]

    static let sqlite = StoreFactory(name: "SQLite") {
        let path = scratchDirectory + "/\(UUID().uuidString).db"
        return TestDatabase { sealer in try SQLiteStore(path: path, sealer: sealer) }
    }

    /// A new database on the throwaway cluster, dropped when the test ends.
    static let postgres = StoreFactory(name: "PostgreSQL") {
        let scope = try OpenedStores.required()
        let settings = try PostgresTestCluster.freshDatabase()
        scope.atEnd { try PostgresTestCluster.drop(settings) }
        return TestDatabase { sealer in
            let store = try PostgresStore(settings: settings, sealer: sealer)
            scope.atEnd { store.close() }
            return store
        }
    }

    static let inMemory = StoreFactory(name: "in memory") {
        let first = InMemoryStore()
        return TestDatabase { sealer in first.reopened(sealer: sealer) }
    }

    /// A new, empty store holding the test key.
    func make() throws -> any BoxStore {
        try makeDatabase().open()
    }

    var testDescription: String { name }
}

/// A database of one implementation, open as often as a test likes: each `open` is a restart of
/// the box, or another box on the same data, with the key it is given (nil: without the key).
struct TestDatabase: Sendable {
    /// Opens the database with a sealer: a new handle each call.
    let connect: @Sendable (_ sealer: (any SecretSealer)?) throws -> any BoxStore

    func open(sealer: (any SecretSealer)? = testSealer) throws -> any BoxStore {
        try connect(sealer)
    }
}

/// What the current test case opened, undone in reverse order when it ends (`.closesStores`).
final class OpenedStores: Sendable {
    @TaskLocal static var current: OpenedStores?

    struct Missing: Error, CustomStringConvertible {
        var description: String { "this suite opens stores that must be closed: give it the .closesStores trait" }
    }

    /// The current test case's, or an error outside `.closesStores` (the store would stay open).
    static func required() throws -> OpenedStores {
        guard let current else { throw Missing() }
        return current
    }

    private let undo = Mutex<[@Sendable () throws -> Void]>([])

    func atEnd(_ step: @escaping @Sendable () throws -> Void) {
        undo.withLock { $0.append(step) }
    }

    /// Stores first, then their databases.
    func end() {
        for step in undo.withLock({ $0.reversed() }) {
            do { try step() } catch { Issue.record(error, "cleaning up after the test") }
        }
    }
}

/// Closes the stores each test case opened, and drops their databases, when it ends.
struct ClosesStores: SuiteTrait, TestTrait, TestScoping {
    var isRecursive: Bool { true }

    func scopeProvider(for test: Test, testCase: Test.Case?) -> ClosesStores? {
        testCase == nil ? nil : self
    }

    func provideScope(
        for test: Test, testCase: Test.Case?, performing function: @Sendable () async throws -> Void
    ) async throws {
        let opened = OpenedStores()
        defer { opened.end() }
        try await OpenedStores.$current.withValue(opened) { try await function() }
    }
}

extension Trait where Self == ClosesStores {
    static var closesStores: Self { ClosesStores() }
}

/// Where the SQLite databases of one test run go; removed when the run ends.
let scratchDirectory: String = {
    let path = scratchPath(pid: getpid())
    try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    atexit { try? FileManager.default.removeItem(atPath: scratchPath(pid: getpid())) }
    return path
}()

func scratchPath(pid: Int32) -> String {
    FileManager.default.temporaryDirectory.appendingPathComponent("store-conformance-\(pid)").path
}

/// The box's key in every test; `strangerSealer` is another box's.
let testSealer = AESGCMSealer(key: SymmetricKey(size: .bits256))
let strangerSealer = AESGCMSealer(key: SymmetricKey(size: .bits256))
