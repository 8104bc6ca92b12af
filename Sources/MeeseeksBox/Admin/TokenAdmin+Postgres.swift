import Logging
import MeeseeksCore
import MeeseeksPostgres
import MeeseeksVault

extension TokenAdmin {
    /// Token work on a PostgreSQL store (tokens are not sealed, so no key is needed).
    static func openPostgres(_ location: DatabaseLocation) throws(Problem) -> any BoxStore {
        guard case .postgres(let url) = location else { preconditionFailure("openPostgres takes a postgres:// location") }
        do {
            return try PostgresStore(url: url)
        } catch {
            throw Problem(description: "cannot open the database \(location): \(error)")
        }
    }
}

extension BoxServer {
    /// The shared store of a cluster, with the key every box of it must hold: from
    /// `MEESEEKS_SECRET_KEY`, else the file `meeseeks.key` in the configuration folder (made
    /// mode 600 at the first start). A box whose key is not the one the database was first
    /// used with is refused here, before it could seal what the others cannot open.
    func openClusterStore(_ location: DatabaseLocation) throws -> any ClusterStore {
        guard case .postgres(let url) = location else { preconditionFailure("openClusterStore takes a postgres:// location") }
        let sealer: AESGCMSealer
        do {
            let (key, source) = try SecretKey.load(environment: options.environment, file: options.configDirectory + "/meeseeks.key")
            sealer = AESGCMSealer(key: key)
            logger.info("secrets at rest are sealed", metadata: ["key": "\(source)"])
        } catch {
            throw StartupError(description: error.description)
        }
        let store: PostgresStore
        do {
            // No statement may outlast a lease: a leader cut off from the database must find out,
            // and stop, before a standby may take over.
            var settings = try PostgresSettings(url: url)
            let bound = Duration.milliseconds(Int64(max(2, options.leaseSeconds) * 1000))
            settings.statementTimeout = min(settings.statementTimeout, bound)
            settings.checkoutTimeout = min(settings.checkoutTimeout, bound)
            store = try PostgresStore(settings: settings, sealer: sealer, logger: logger)
        } catch {
            throw StartupError(description: "cannot open the database \(location): \(error)")
        }
        do {
            try store.checkSecretKey()
        } catch {
            store.close()
            throw StartupError(description: "\(location): \(error)")
        }
        logger.info("database open", metadata: ["database": "\(location)"])
        return store
    }
}
