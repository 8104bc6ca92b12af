import Synchronization

/// A clock that moves only when a test moves it. The box takes its clock as
/// `@Sendable () -> Double` (seconds since 1970): pass `clock.now`.
///
/// ```swift
/// let clock = ManualClock(at: 1_000)
/// let orchestrator = try Orchestrator(store: store, config: config, logger: logger, clock: clock.now)
/// clock.advance(by: 30)   // a hand-back's backoff has passed
/// ```
public final class ManualClock: Sendable {
    private let time: Mutex<Double>

    /// - Parameter start: the time it shows until it is moved (seconds since 1970).
    public init(at start: Double = 1_000) {
        time = Mutex(start)
    }

    /// The time it shows now.
    public var current: Double {
        time.withLock { $0 }
    }

    /// The clock as the box's parts take it.
    public var now: @Sendable () -> Double {
        { [self] in current }
    }

    /// Moves the clock forward (or back, with a negative interval: a clock step).
    public func advance(by seconds: Double) {
        time.withLock { $0 += seconds }
    }

    /// Sets the time it shows.
    public func set(_ newTime: Double) {
        time.withLock { $0 = newTime }
    }
}
