import Crypto
import Foundation
import MeeseeksCore
import MeeseeksSQLite
import MeeseeksTesting
import MeeseeksVault
import Testing

/// One implementation of the store ports under test. Every conformance test runs once per
/// factory in `all`: to hold another store to the same contract (PostgreSQL), append its factory.
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

    static let all: [StoreFactory] = [.sqlite, .inMemory]

    static let sqlite = StoreFactory(name: "SQLite") {
        let path = scratchDirectory + "/\(UUID().uuidString).db"
        return TestDatabase { sealer in try SQLiteStore(path: path, sealer: sealer) }
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
