import Synchronization

/// Runs work concurrently across keys and in order within a key: one slow Slack call (a
/// `views.open`, a stalled dialog) holds up only its own dialog, never every user. At most
/// `limit` pieces run at once; the keys of finished chains are forgotten, so the map stays as
/// small as the work in flight.
final class SerialByKey: Sendable {
    private let tails = Mutex<[String: (token: Int, task: Task<Void, Never>)]>([:])
    private let counter = Atomic<Int>(0)
    let limit: Int

    init(limit: Int) {
        self.limit = limit
    }

    /// Chains in flight, for tests and metrics.
    var chains: Int { tails.withLock { $0.count } }

    /// Runs `work` after the work already queued under `key` (or at once without a key), from
    /// inside a task group so the caller can bound how much runs at once.
    func task(key: String?, _ work: @escaping @Sendable () async -> Void) -> Task<Void, Never> {
        guard let key else { return Task { await work() } }
        let token = counter.add(1, ordering: .relaxed).newValue
        return tails.withLock { tails in
            let previous = tails[key]?.task
            let task = Task {
                await previous?.value
                await work()
                // Forget the key if nothing was queued behind this piece meanwhile.
                self.tails.withLock { if $0[key]?.token == token { $0[key] = nil } }
            }
            tails[key] = (token, task)
            return task
        }
    }
}
