import Foundation
import GRPCCore
import MeeseeksCore
import SwiftProtobuf
import Synchronization

/// Watches every agent session: ends those silent for longer than their limit (three missed
/// heartbeats, and never under `lostAfter`), and asks for rarer heartbeats as the fleet grows
/// (`HeartbeatPace`). One sweep every few hundred milliseconds over every session, instead of a sleeping
/// timer per session, so ten thousand quiet agents cost one wake-up, not ten thousand. A session
/// waits on it at no cost; the sweep runs only while some session is watched.
final class SilenceWatch: Sendable {
    /// A class: each sweep visits ten thousand of them, and one reference is cheaper
    /// to pass around than four.
    private final class Watched: Sendable {
        let state: SessionState
        let lostAfter: Int
        let link: GRPCAgentLink
        let continuation: CheckedContinuation<Void, any Error>

        init(state: SessionState, lostAfter: Int, link: GRPCAgentLink, continuation: CheckedContinuation<Void, any Error>) {
            (self.state, self.lostAfter, self.link, self.continuation) = (state, lostAfter, link, continuation)
        }
    }

    private struct Sessions {
        var watched: [ObjectIdentifier: Watched] = [:]
        var sweeping = false
        /// Registered sessions at the last sweep, and registrations since: the fleet the pace is
        /// set for. Only registered agents count (they hold a token): streams that never register
        /// cannot slow everyone's heartbeats down.
        var registered = 0
        var joined = 0
        var fleet: Int { registered.addingReportingOverflow(joined).overflow ? .max : registered + joined }
    }

    private let sessions = Mutex(Sessions())

    /// How often the sweep runs: an eighth of the shortest silence limit watched, between a quarter
    /// of a second and ten seconds (silence is found that much late at most; a big fleet's limits
    /// are minutes long).
    static func sweepInterval(shortestLimit: Int) -> Duration {
        .milliseconds(max(250, min(shortestLimit, 80) * 125))
    }

    /// The heartbeat interval for an agent that registers now; it joins the fleet the pace is set for.
    func paceForNewcomer(lostAfter: Int) -> Int {
        let interval = sessions.withLock { sessions in
            sessions.joined += 1
            return HeartbeatPace.interval(agents: sessions.fleet, lostAfter: lostAfter)
        }
        AgentMetrics.heartbeatInterval(interval)
        return interval
    }

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
        var interval = Self.sweepInterval(shortestLimit: 0)
        while true {
            // Not cancellable (nobody holds this task): a thrown sleep would only end it early.
            try? await Task.sleep(for: interval)
            let now = Date().timeIntervalSince1970
            var silent: [(Watched, limit: Int)] = []
            var slower: [(Watched, interval: Int)] = []
            var shortest = Int.max
            let idle = sessions.withLock { sessions -> Bool in
                let fleet = sessions.fleet
                var registered = 0
                for (key, watched) in sessions.watched {
                    let heartbeat = watched.state.heartbeat
                    if heartbeat != nil { registered += 1 }
                    let limit =
                        heartbeat.map { HeartbeatPace.silenceLimit(interval: $0, lostAfter: watched.lostAfter) } ?? watched.lostAfter
                    shortest = min(shortest, limit)
                    if now - watched.state.lastContact > Double(limit) {
                        silent.append((watched, limit))
                        sessions.watched[key] = nil
                    } else if let heartbeat {
                        let target = HeartbeatPace.interval(agents: fleet, lostAfter: watched.lostAfter)
                        if HeartbeatPace.repaces(current: heartbeat, target: target) { slower.append((watched, target)) }
                    }
                }
                (sessions.registered, sessions.joined) = (registered, 0)
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
            interval = Self.sweepInterval(shortestLimit: shortest)
        }
    }
}
