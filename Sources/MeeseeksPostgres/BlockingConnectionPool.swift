import Dispatch
import Logging
import NIOCore
import NIOPosix
import PostgresNIO
import Synchronization

/// A small, bounded pool of PostgreSQL connections for synchronous callers.
///
/// The store's ports are synchronous: the orchestrator takes one decision at a time and must not
/// suspend in the middle of one. Each statement is sent with postgres-nio's `EventLoopFuture` API
/// and waited for on the caller's thread, while the connections' I/O runs on the pool's own
/// event loop (never one a caller runs on, so `wait()` cannot deadlock it). Nothing goes through
/// a `Task`: blocking the cooperative pool to wait for one would starve the task it waits for.
///
/// - At most `poolSize` connections exist; a caller waits (up to `checkoutTimeout`) for a free one.
/// - Connections are opened when first needed and kept; one that broke (closed by the server,
///   timed out, failed mid-statement) is closed and dropped, and the next caller opens a new one.
/// - A transaction holds one connection from `BEGIN` to `COMMIT` or `ROLLBACK`.
final class BlockingConnectionPool: Sendable {
    let settings: PostgresSettings
    let logger: Logger
    /// The connections' event loop; also where the store's listeners connect.
    let eventLoopGroup: MultiThreadedEventLoopGroup
    private let configuration: PostgresConnection.Configuration
    /// One permit per connection that may be checked out.
    private let permits: DispatchSemaphore
    private let state = Mutex(State())
    private let connectionIDs = Atomic<Int>(1)

    private struct State {
        var idle: [PostgresConnection] = []
        var isClosed = false
        /// After the database was found out of reach, calls fail at once until then (one call
        /// at a time probes it): threads blocked on a dead network starve everything else.
        var unreachableUntil: ContinuousClock.Instant?
        var unreachableBecause = ""
    }

    /// How long calls fail fast after the database was found out of reach.
    static let retryAfter: Duration = .milliseconds(500)

    init(settings: PostgresSettings, logger: Logger) throws {
        guard settings.poolSize > 0 else { throw PostgresStoreError(.invalidURL, "the pool needs at least one connection") }
        self.settings = settings
        self.logger = logger
        configuration = try settings.connectionConfiguration()
        permits = DispatchSemaphore(value: settings.poolSize)
        eventLoopGroup = MultiThreadedEventLoopGroup(numberOfThreads: 1)
    }

    deinit {
        close()
    }

    /// Runs `body` with a connection of its own, returned to the pool afterwards (or dropped,
    /// when `body` failed because the connection did).
    ///
    /// - Parameter deadline: how long to wait for a free connection and for each statement, when
    ///   shorter than the settings' (the lease's calls must fail fast, not after 15 s).
    @discardableResult
    func withConnection<T>(deadline: Duration? = nil, _ body: (PostgresSession) throws -> T) throws -> T {
        do {
            let result = try connected(deadline: deadline, body)
            state.withLock { $0.unreachableUntil = nil }
            return result
        } catch let error as PostgresStoreError where error.code == .connectionFailed {
            // Only a failure to connect says the database is out of reach (a statement that
            // timed out or a killed connection does not).
            state.withLock { state in
                state.unreachableUntil = .now + Self.retryAfter
                state.unreachableBecause = error.message
            }
            throw error
        }
    }

    private func connected<T>(deadline: Duration?, _ body: (PostgresSession) throws -> T) throws -> T {
        let now = ContinuousClock.now
        let refused = state.withLock { state -> String? in
            guard let until = state.unreachableUntil else { return nil }
            if now < until { return state.unreachableBecause }
            // The window is over: this call finds out whether it is back; the others still fail
            // fast meanwhile.
            state.unreachableUntil = now + Self.retryAfter
            return nil
        }
        if let refused { throw PostgresStoreError(.connectionFailed, "the database is out of reach (\(refused)); retrying shortly") }
        let checkout = min(deadline ?? settings.checkoutTimeout, settings.checkoutTimeout)
        guard permits.wait(timeout: .now() + checkout.dispatchInterval) == .success else {
            throw PostgresStoreError(.poolExhausted, "all \(settings.poolSize) connections to \(settings) stayed busy for \(checkout)")
        }
        defer { permits.signal() }
        let statementTimeout = min(deadline ?? settings.statementTimeout, settings.statementTimeout)
        let connection = try checkOut(within: statementTimeout)
        let session = PostgresSession(connection: connection, logger: logger, statementTimeout: statementTimeout)
        do {
            let result = try body(session)
            checkIn(connection)
            return result
        } catch {
            if PostgresStoreError.leavesConnectionUsable(error), !connection.isClosed {
                checkIn(connection)
            } else {
                discard(connection)
            }
            throw error
        }
    }

    /// Runs `body` in one transaction on one connection: committed when it returns, rolled back
    /// when it throws.
    @discardableResult
    func transaction<T>(_ body: (PostgresSession) throws -> T) throws -> T {
        try withConnection { session in
            try session.query("BEGIN")
            do {
                let result = try body(session)
                try session.query("COMMIT")
                return result
            } catch {
                do {
                    try session.query("ROLLBACK")
                } catch {
                    // A connection that cannot roll back is in no known state: close it, so it
                    // is dropped rather than reused. The transaction's own error is reported.
                    logger.warning("rollback failed; dropping the connection", metadata: ["error": "\(error)"])
                    closeAndWait(session.connection)
                }
                throw error
            }
        }
    }

    /// Opens a connection outside the pool (for `LISTEN`, which keeps its connection).
    func openDedicated(applicationName: String) async throws -> PostgresConnection {
        guard !state.withLock({ $0.isClosed }) else { throw PostgresStoreError(.closed, "the store was closed") }
        do {
            return try await PostgresConnection.connect(
                on: eventLoopGroup.next(), configuration: try settings.connectionConfiguration(applicationName: applicationName),
                id: connectionIDs.wrappingAdd(1, ordering: .relaxed).oldValue, logger: logger)
        } catch {
            throw PostgresStoreError(.connectionFailed, "connecting to \(settings)", cause: error)
        }
    }

    var isClosed: Bool { state.withLock { $0.isClosed } }

    /// Closes the idle connections and stops the event loop. Connections in use when this is
    /// called are closed as they come back; statements started afterwards fail with `.closed`.
    func close() {
        let idle: [PostgresConnection]? = state.withLock { state in
            guard !state.isClosed else { return nil }
            state.isClosed = true
            defer { state.idle = [] }
            return state.idle
        }
        guard let idle else { return }
        for connection in idle { closeAndWait(connection) }
        let logger = logger
        eventLoopGroup.shutdownGracefully { error in
            if let error { logger.warning("the store's event loop did not stop cleanly", metadata: ["error": "\(error)"]) }
        }
    }

    private enum Taken {
        case closed
        case idle(PostgresConnection)
        case none
    }

    private func checkOut(within limit: Duration) throws -> PostgresConnection {
        while true {
            let taken = state.withLock { state -> Taken in
                if state.isClosed { return .closed }
                return state.idle.popLast().map(Taken.idle) ?? .none
            }
            switch taken {
            case .closed:
                throw PostgresStoreError(.closed, "the store was closed")
            case .idle(let connection) where connection.isClosed:
                // The server or the network closed it while it was idle.
                discard(connection)
            case .idle(let connection):
                return connection
            case .none:
                return try open(within: limit)
            }
        }
    }

    /// Connects, waiting at most `limit` for the whole handshake (a server that accepts the TCP
    /// connection and then says nothing must not hold the caller: postgres-nio's own timeout
    /// covers only the TCP connect).
    private func open(within limit: Duration) throws -> PostgresConnection {
        let id = connectionIDs.wrappingAdd(1, ordering: .relaxed).oldValue
        let connecting = PostgresConnection.connect(on: eventLoopGroup.next(), configuration: configuration, id: id, logger: logger)
        let outcome = Mutex<Result<PostgresConnection, any Error>?>(nil)
        let done = DispatchSemaphore(value: 0)
        connecting.whenComplete { result in
            outcome.withLock { $0 = result }
            done.signal()
        }
        guard done.wait(timeout: .now() + limit.dispatchInterval) == .success, let result = outcome.withLock({ $0 }) else {
            // Given up: a connection that completes later is closed at once.
            connecting.whenSuccess { connection in connection.close().whenComplete { _ in } }
            throw PostgresStoreError(.connectionFailed, "connecting to \(settings): no answer within \(limit)")
        }
        do {
            return try result.get()
        } catch {
            throw PostgresStoreError(.connectionFailed, "connecting to \(settings)", cause: error)
        }
    }

    private func checkIn(_ connection: PostgresConnection) {
        let rejected = state.withLock { state -> PostgresConnection? in
            guard !state.isClosed else { return connection }
            state.idle.append(connection)
            return nil
        }
        if let rejected { closeAndWait(rejected) }
    }

    private func discard(_ connection: PostgresConnection) {
        logger.debug("dropping a broken connection", metadata: ["connection": "\(connection.id)"])
        closeAndWait(connection)
    }

    /// Closes a connection and waits until it is: postgres-nio expects every connection closed
    /// before it is released.
    private func closeAndWait(_ connection: PostgresConnection) {
        do {
            try connection.close().wait()
        } catch {
            // Closing a connection that already failed may report that failure again; it is
            // closed all the same.
            logger.debug("closing a connection reported an error", metadata: ["error": "\(error)"])
        }
    }
}

extension Duration {
    var dispatchInterval: DispatchTimeInterval {
        .nanoseconds(Int(min(nanoseconds, Int64(Int.max))))
    }

    var nanoseconds: Int64 {
        let (seconds, attoseconds) = components
        let (whole, overflow) = seconds.multipliedReportingOverflow(by: 1_000_000_000)
        return overflow ? .max : whole + attoseconds / 1_000_000_000
    }
}
