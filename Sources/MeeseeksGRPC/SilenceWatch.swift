import Foundation
import GRPCCore
import Synchronization

/// Ends agent sessions that have been silent for longer than their `lostAfter`: one sweep every
/// half second over every session, instead of a sleeping timer per session, so ten thousand quiet
/// agents cost one wake-up, not ten thousand. A session waits on it at no cost; the sweep runs
/// only while some session is watched.
final class SilenceWatch: Sendable {
    private struct Watched {
        let state: SessionState
        let lostAfter: Int
        let continuation: CheckedContinuation<Void, any Error>
    }

    private struct Sessions {
        var watched: [ObjectIdentifier: Watched] = [:]
        var sweeping = false
    }

    private let sessions = Mutex(Sessions())
    static let sweepInterval = Duration.milliseconds(500)

    /// Returns never; throws `deadlineExceeded` once `state` has been silent for more than
    /// `lostAfter` seconds, or `CancellationError` when the session ends first.
    func silence(of state: SessionState, lostAfter: Int) async throws {
        let key = ObjectIdentifier(state)
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                let startSweep = sessions.withLock { sessions in
                    sessions.watched[key] = Watched(state: state, lostAfter: lostAfter, continuation: continuation)
                    defer { sessions.sweeping = true }
                    return !sessions.sweeping
                }
                if startSweep { Task { await self.sweep() } }
                // Cancelled before it was watched: the handler found nothing to end.
                if Task.isCancelled { end(key, throwing: CancellationError()) }
            }
        } onCancel: {
            end(key, throwing: CancellationError())
        }
    }

    /// Ends one watched session, once (whoever removes it resumes it).
    private func end(_ key: ObjectIdentifier, throwing error: any Error) {
        sessions.withLock { $0.watched.removeValue(forKey: key) }?.continuation.resume(throwing: error)
    }

    private func sweep() async {
        while true {
            // Not cancellable (nobody holds this task): a thrown sleep would only end it early.
            try? await Task.sleep(for: Self.sweepInterval)
            let now = Date().timeIntervalSince1970
            let (silent, idle) = sessions.withLock { sessions -> ([Watched], Bool) in
                let silent = sessions.watched.values.filter { now - $0.state.lastContact > Double($0.lostAfter) }
                for watched in silent { sessions.watched[ObjectIdentifier(watched.state)] = nil }
                if sessions.watched.isEmpty { sessions.sweeping = false }
                return (silent, sessions.watched.isEmpty)
            }
            for watched in silent {
                watched.continuation.resume(
                    throwing: RPCError(code: .deadlineExceeded, message: "no message for \(watched.lostAfter)s"))
            }
            if idle { return }
        }
    }
}
