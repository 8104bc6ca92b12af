import Synchronization

/// Wakes those following something (a job's output, a dialog's messages) when it changes,
/// without polling. Versions live in a fixed number of buckets, so following any number of
/// jobs costs no memory that grows: two keys in one bucket only wake each other needlessly.
public final class ChangeSignal<Key: Hashable & Sendable>: Sendable {
    private struct State {
        var versions: [Int]
        var waiters: [Key: [Int: CheckedContinuation<Void, Never>]] = [:]
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
        let woken = state.withLock { state -> [Int: CheckedContinuation<Void, Never>]? in
            state.versions[bucket(key)] &+= 1
            return state.waiters.removeValue(forKey: key)
        }
        for continuation in woken?.values ?? [:].values { continuation.resume() }
    }

    /// Waits until `key` changes after `version`, or `timeout` seconds pass (or the task is
    /// cancelled).
    public func wait(for key: Key, after version: Int, timeout: Double) async {
        guard timeout > 0, timeout.isFinite else { return }
        let token = state.withLock { state -> Int in
            state.nextToken &+= 1
            return state.nextToken
        }
        await withTaskGroup(of: Void.self) { group in
            group.addTask {
                await withCheckedContinuation { continuation in
                    let now = self.state.withLock { state -> Bool in
                        if state.versions[self.bucket(key)] != version { return true }
                        state.waiters[key, default: [:]][token] = continuation
                        return false
                    }
                    if now { continuation.resume() }
                }
            }
            group.addTask { try? await Task.sleep(for: .milliseconds(Int64(min(timeout, 3600) * 1000))) }
            await group.next()
            // Whoever takes the waiter out resumes it: the change, or this timeout.
            let left = state.withLock { state -> CheckedContinuation<Void, Never>? in
                let continuation = state.waiters[key]?.removeValue(forKey: token)
                if state.waiters[key]?.isEmpty == true { state.waiters[key] = nil }
                return continuation
            }
            left?.resume()
            group.cancelAll()
        }
    }
}
