import Foundation
import GRPCCore
import MeeseeksCore
import SwiftProtobuf
import Synchronization

/// Watches every agent session: ends those silent for longer than their limit (three missed
/// heartbeats, and never under `lostAfter`), and asks for rarer heartbeats as the fleet grows
/// (`HeartbeatPace`). One sweep every half second over every session, instead of a sleeping
/// timer per session, so ten thousand quiet agents cost one wake-up, not ten thousand. A session
/// waits on it at no cost; the sweep runs only while some session is watched.
final class SilenceWatch: Sendable {
    private struct Watched {
        let state: SessionState
        let lostAfter: Int
        let link: GRPCAgentLink
        let continuation: CheckedContinuation<Void, any Error>
    }

    private struct Sessions {
        var watched: [ObjectIdentifier: Watched] = [:]
        var sweeping = false
    }

    private let sessions = Mutex(Sessions())
    static let sweepInterval = Duration.milliseconds(500)

    /// Sessions watched now: the fleet the heartbeat pace is set for.
    var count: Int { sessions.withLock { $0.watched.count } }

    /// Returns never; throws `deadlineExceeded` once `state` has been silent for longer than its
    /// limit, or `CancellationError` when the session ends first. `link` carries `Pace` requests.
    func silence(of state: SessionState, lostAfter: Int, link: GRPCAgentLink) async throws {
        let key = ObjectIdentifier(state)
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                let startSweep = sessions.withLock { sessions in
                    sessions.watched[key] = Watched(state: state, lostAfter: lostAfter, link: link, continuation: continuation)
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
            var silent: [(Watched, limit: Int)] = []
            var slower: [(Watched, interval: Int)] = []
            let idle = sessions.withLock { sessions -> Bool in
                let fleet = sessions.watched.count
                for (key, watched) in sessions.watched {
                    let (lastContact, heartbeat) = watched.state.contact
                    let limit =
                        heartbeat.map { HeartbeatPace.silenceLimit(interval: $0, lostAfter: watched.lostAfter) } ?? watched.lostAfter
                    if now - lastContact > Double(limit) {
                        silent.append((watched, limit))
                        sessions.watched[key] = nil
                    } else if let heartbeat {
                        let target = HeartbeatPace.interval(agents: fleet, lostAfter: watched.lostAfter)
                        if HeartbeatPace.repaces(current: heartbeat, target: target) { slower.append((watched, target)) }
                    }
                }
                if sessions.watched.isEmpty { sessions.sweeping = false }
                return sessions.watched.isEmpty
            }
            for (watched, limit) in silent {
                watched.continuation.resume(throwing: RPCError(code: .deadlineExceeded, message: "no message for \(limit)s"))
            }
            for (watched, interval) in slower {
                // The longer limit first: the agent may answer at the new pace at once.
                watched.state.heartbeat = interval
                watched.link.send(.with { $0.pace = .with { $0.heartbeatSeconds = Int32(clamping: interval) } })
            }
            if let interval = slower.last?.interval { AgentMetrics.heartbeatInterval(interval) }
            if idle { return }
        }
    }
}
