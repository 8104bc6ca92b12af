import Synchronization

/// Wakes those following a job (log followers, `meeseeks run`) when it changes.
public final class JobNotifier: Sendable {
    private let versions = Mutex<[Int64: Int]>([:])

    public init() {}

    func changed(_ id: Int64) {
        versions.withLock { $0[id, default: 0] += 1 }
    }

    /// A number that grows whenever job `id` changes.
    public func version(of id: Int64) -> Int {
        versions.withLock { $0[id, default: 0] }
    }

    /// Waits until job `id` changes after `version`, or `timeout` seconds pass.
    public func wait(for id: Int64, after version: Int, timeout: Double) async {
        let deadline = ContinuousClock.now + .milliseconds(Int(timeout * 1000))
        while self.version(of: id) == version, ContinuousClock.now < deadline, !Task.isCancelled {
            try? await Task.sleep(for: .milliseconds(20))
        }
    }
}
