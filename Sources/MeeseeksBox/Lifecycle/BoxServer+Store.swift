import Foundation
import Logging
import MeeseeksCore
import MeeseeksSQLite
import MeeseeksVault

extension BoxServer {
    /// The store, with the key that seals its secrets; checked for integrity once, here, so
    /// readiness stays cheap.
    func openStore(at path: String) throws -> SQLiteStore {
        let sealer: AESGCMSealer
        do {
            let (key, source) = try SecretKey.load(environment: options.environment, file: path + ".key")
            sealer = AESGCMSealer(key: key)
            logger.info("secrets at rest are sealed", metadata: ["key": "\(source)"])
        } catch {
            throw StartupError(description: error.description)
        }
        let store: SQLiteStore
        let verdict: String
        do {
            store = try SQLiteStore(path: path, sealer: sealer)
            verdict = try store.database.query("PRAGMA quick_check").first?.string(0) ?? "no answer"
        } catch {
            throw StartupError(description: "cannot open the database \(path): \(error)")
        }
        guard verdict == "ok" else { throw StartupError(description: "the database \(path) failed its integrity check: \(verdict)") }
        logger.info("database open", metadata: ["path": "\(path)"])
        return store
    }

    /// The name of the admin token a box makes for itself when `MEESEEKS_API_TOKEN` is unset.
    static let localAdminTokenName = "local-admin"

    /// For one machine without setup: the first start without `MEESEEKS_API_TOKEN` makes an admin
    /// token, stores only its hash (like any other token) and prints it once on standard output,
    /// never in the log. Later starts find the hash and print nothing.
    static func createLocalAdminToken(in store: any TokenStore, logger: Logger) throws {
        do {
            if try store.tokens().contains(where: { $0.name == localAdminTokenName && !$0.revoked }) {
                logger.notice("MEESEEKS_API_TOKEN is not set: the local admin token made at the first start opens the API")
                return
            }
            let token = "msk_local_" + Hex.encode((0..<24).map { _ in UInt8.random(in: 0...255) })
            try store.saveToken(
                APIToken(
                    name: localAdminTokenName, user: BoxAPI.bootstrapUser, hash: BoxAPI.hash(token: token),
                    createdAt: Date().timeIntervalSince1970))
            FileHandle.standardOutput.write(
                Data(
                    "meeseeks: MEESEEKS_API_TOKEN is not set: made a local admin token, shown this once (only its hash is kept):\nexport MEESEEKS_API_TOKEN=\(token)\n"
                        .utf8))
            logger.notice("MEESEEKS_API_TOKEN is not set: made a local admin token (printed once on standard output)")
        } catch {
            throw StartupError(description: "cannot make a local admin token: \(error)")
        }
    }

    /// Thousands of agents hold thousands of sockets: the soft limit on open files goes up to
    /// the hard one, and the log says what it is.
    func raiseOpenFilesLimit() {
        var limit = rlimit()
        guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0 else { return }
        let before = limit.rlim_cur
        if limit.rlim_cur < limit.rlim_max {
            limit.rlim_cur = limit.rlim_max
            if setrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) != 0 { limit.rlim_cur = before }
        }
        logger.info("open files limit", metadata: ["soft": "\(limit.rlim_cur)", "hard": "\(limit.rlim_max)", "was": "\(before)"])
    }
}
