import Synchronization

/// Wakes those following something (a job's output, a dialog's messages) when it changes,
/// without polling. Versions live in a fixed number of buckets, so following any number of
/// jobs costs no memory that grows: two keys in one bucket only wake each other needlessly.
public final class ChangeSignal<Key: Hashable & Sendable>: Sendable {
    private struct State {
        var versions: [Int]
        var waiters: [Key: [Int: Waiter]] = [:]
        var nextToken = 0
    }

    private let state: Mutex<State>
    private let buckets: Int

    public init(buckets: Int = 4096) {
        self.buckets = max(1, buckets)
        state = Mutex(State(versions: Array(repeating: 0, count: max(1, buckets))))
    }

    private func bucket(_ key: Key) -> Int {
        Int(UInt(bitPattern: key.hashValue) % UInt(buckets))
    }

    /// A number that grows whenever `key` changes.
    public func version(of key: Key) -> Int {
        state.withLock { $0.versions[bucket(key)] }
    }

    /// `key` changed: wakes everyone waiting on it.
    public func changed(_ key: Key) {
        let woken = state.withLock { state -> [Int: Waiter]? in
            state.versions[bucket(key)] &+= 1
            return state.waiters.removeValue(forKey: key)
        }
        for waiter in woken?.values ?? [:].values { waiter.finish() }
    }

    /// Waits until `key` changes after `version`, or `timeout` seconds pass, or the task is
    /// cancelled. The change, the timer and the cancellation may come in any order, even before
    /// the wait has begun: whichever is first ends it, exactly once.
    public func wait(for key: Key, after version: Int, timeout: Double) async {
        guard timeout > 0, timeout.isFinite else { return }
        let waiter = Waiter()
        let token: Int? = state.withLock { state in
            guard state.versions[bucket(key)] == version else { return nil }
            state.nextToken &+= 1
            state.waiters[key, default: [:]][state.nextToken] = waiter
            return state.nextToken
        }
        guard let token else { return }
        let timer = Task {
            // Cancelled means the wait ended first: nothing left to do either way.
            try? await Task.sleep(for: .milliseconds(Int64(min(timeout, 3600) * 1000)))
            waiter.finish()
        }
        await withTaskCancellationHandler {
            await withCheckedContinuation { waiter.park($0) }
        } onCancel: {
            waiter.finish()
        }
        timer.cancel()
        state.withLock { state in
            state.waiters[key]?[token] = nil
            if state.waiters[key]?.isEmpty == true { state.waiters[key] = nil }
        }
    }
}

/// One wait: parked until finished, or let through at once when finished before it parked.
private final class Waiter: Sendable {
    private enum Phase {
        case waiting
        case parked(CheckedContinuation<Void, Never>)
        case finished
    }

    private let phase = Mutex(Phase.waiting)

    func park(_ continuation: CheckedContinuation<Void, Never>) {
        let now = phase.withLock { phase -> Bool in
            if case .finished = phase { return true }
            phase = .parked(continuation)
            return false
        }
        if now { continuation.resume() }
    }

    func finish() {
        let parked = phase.withLock { phase -> CheckedContinuation<Void, Never>? in
            defer { phase = .finished }
            if case .parked(let continuation) = phase { return continuation }
            return nil
        }
        parked?.resume()
    }
}
