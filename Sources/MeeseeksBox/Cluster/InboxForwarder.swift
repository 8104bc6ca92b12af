import Foundation
import Logging
import MeeseeksCore

/// A front door's side of the inbox: posts a request for the leader and, for an API call, waits
/// for the answer, woken by the database's notification (with a re-check every second in case
/// one is missed).
struct InboxForwarder: Sendable {
    let inbox: any InboxStore
    /// Woken, by request id, when a reply is notified.
    let replies: ChangeSignal<Int64>
    let logger: Logger

    /// Posts a request the caller does not wait for (a Slack payload, acknowledged once stored);
    /// false when its event was stored already (a retry).
    func post(kind: String, payload: [UInt8], eventID: String?) throws -> Bool {
        try inbox.post(InboxRequest(kind: kind, payload: payload, createdAt: Date().timeIntervalSince1970, eventID: eventID)) != nil
    }

    /// Posts a request and waits up to `timeout` seconds for its answer; nil on timeout.
    func call(kind: String, payload: [UInt8], timeout: Double) async throws -> [UInt8]? {
        guard let id = try inbox.post(InboxRequest(kind: kind, payload: payload, createdAt: Date().timeIntervalSince1970)) else {
            return nil  // only requests with an event id are ever refused as repeats
        }
        let deadline = ContinuousClock.now + .milliseconds(Int64(timeout * 1000))
        while ContinuousClock.now < deadline, !Task.isCancelled {
            let version = replies.version(of: id)
            if let answer = try inbox.response(of: id) { return answer }
            await replies.wait(for: id, after: version, timeout: 1)
        }
        return try inbox.response(of: id)
    }
}
