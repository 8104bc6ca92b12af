import Logging
import MeeseeksCore
import PostgresNIO

/// LISTEN/NOTIFY between the boxes of a cluster.
extension PostgresStore {

    /// Listens on a connection of its own (a pooled one would be handed to other statements),
    /// calling `wake` with each notification's payload until the task is cancelled or the store
    /// closed.
    ///
    /// When the connection fails, it reconnects (waiting 0.2 s, doubling up to 5 s) and then calls
    /// `wake("")` once: notifications sent while it was away are lost, so the listener should
    /// look at the database again.
    public func listen(_ channel: String, wake: @escaping @Sendable (String) -> Void) async throws {
        var delay: Duration = .milliseconds(200)
        var reconnected = false
        while !Task.isCancelled, !pool.isClosed {
            do {
                let connection = try await pool.openDedicated(applicationName: "\(pool.settings.applicationName) listener")
                do {
                    try await connection.listen(on: channel) { notifications in
                        delay = .milliseconds(200)
                        if reconnected { wake("") }
                        for try await notification in notifications {
                            wake(notification.payload)
                        }
                    }
                } catch {
                    if !Task.isCancelled {
                        pool.logger.warning(
                            "listening on \(channel) failed",
                            metadata: ["error": "\(PostgresStoreError(.connectionLost, "LISTEN \(channel)", cause: error))"])
                    }
                }
                await Self.close(connection, logger: pool.logger)
            } catch {
                pool.logger.warning("cannot listen on \(channel)", metadata: ["error": "\(error)"])
            }
            guard !Task.isCancelled, !pool.isClosed else { return }
            do {
                try await Task.sleep(for: delay)
            } catch {
                return  // Cancelled while waiting to reconnect.
            }
            delay = min(delay * 2, .seconds(5))
            reconnected = true
        }
    }

    private static func close(_ connection: PostgresConnection, logger: Logger) async {
        do {
            try await connection.close()
        } catch {
            // A connection that failed may report that failure again as it closes; it is closed.
            logger.debug("closing the listener's connection reported an error", metadata: ["error": "\(error)"])
        }
    }

    public func notify(_ channel: String, payload: String) throws {
        try pool.withConnection { try $0.query("SELECT pg_notify($1, $2)", [.text(channel), .text(payload)]) }
    }
}
