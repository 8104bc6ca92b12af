import Foundation
import HummingbirdWSClient
public import Logging
import MeeseeksCore
import Metrics
import NIOWebSocket
import Synchronization

/// Slack's Socket Mode: `apps.connections.open` for a fresh URL, a WebSocket, `hello`, and every
/// envelope acknowledged at once (with a response payload where Slack accepts one). Reconnects
/// with backoff on `warning`, `refresh_requested` and dropped sockets; stops on `link_disabled`.
public final class SocketModeClient: Sendable {
    let api: SlackWebAPI
    /// Where envelopes go: the Slack service, or (in a cluster) the front door that stores them
    /// before they are acknowledged.
    let service: any SlackIntake
    let logger: Logger
    private let state = Mutex<(connected: Bool, disabled: Bool)>((false, false))

    public init(api: SlackWebAPI, service: any SlackIntake, logger: Logger) {
        self.api = api
        self.service = service
        self.logger = logger
    }

    /// True between `hello` and the socket closing: the box's readiness in Socket Mode.
    public var isConnected: Bool { state.withLock { $0.connected } }

    public func run() async {
        var failures = 0
        while !Task.isCancelled {
            switch await api.call("apps.connections.open", [:], token: .app, form: true) {
            case .ok(let json):
                guard let url = json["url"]?.string else { break }
                let clean = await connect(url)
                if state.withLock({ $0.disabled }) {
                    logger.error("Socket Mode is disabled for this app (link_disabled); not reconnecting")
                    return
                }
                failures = clean ? 0 : failures + 1
            case .refused(let error, _):
                logger.error("apps.connections.open refused", metadata: ["error": "\(error)"])
                failures += 1
            case .retry(let reason, let after):
                logger.warning("apps.connections.open failed", metadata: ["reason": "\(reason)"])
                if let after { try? await Task.sleep(for: .seconds(after)) }
                failures += 1
            }
            MetricCache.counter("meeseeks_slack_socket_reconnects_total").increment()
            let backoff = failures == 0 ? 0.2 : min(30, 0.5 * pow(2, Double(min(failures, 6)))) * Double.random(in: 0.8...1.2)
            try? await Task.sleep(for: .milliseconds(Int(backoff * 1000)))
        }
    }

    /// One connection; true when it ended because Slack asked us to reconnect.
    private func connect(_ url: String) async -> Bool {
        let askedToReconnect = Atomic<Bool>(false)
        do {
            try await WebSocketClient.connect(url: url, logger: logger) { inbound, outbound, _ in
                for try await message in inbound.messages(maxSize: 1 << 20) {
                    guard case .text(let text) = message, let frame = JSON.decode(Array(text.utf8)) else { continue }
                    switch frame["type"]?.string {
                    case "hello":
                        self.state.withLock { $0.connected = true }
                        self.logger.notice("Slack Socket Mode connected")
                    case "disconnect":
                        let reason = frame["reason"]?.string ?? "unknown"
                        self.logger.info("Slack asked to disconnect", metadata: ["reason": "\(reason)"])
                        if reason == "link_disabled" { self.state.withLock { $0.disabled = true } }
                        askedToReconnect.store(true, ordering: .relaxed)
                        try await outbound.close(.normalClosure, reason: nil)
                        return
                    default:
                        // An envelope not taken (a full queue, a database out of reach) is not
                        // acknowledged: Slack sends it again.
                        if let envelopeID = frame["envelope_id"]?.string, let ack = self.acknowledge(envelopeID, frame) {
                            try await outbound.write(.text(String(decoding: ack.encoded(), as: UTF8.self)))
                        }
                    }
                }
            }
        } catch {
            logger.warning("Slack socket dropped", metadata: ["error": "\(error)"])
        }
        state.withLock { $0.connected = false }
        return askedToReconnect.load(ordering: .relaxed)
    }

    /// Queues the envelope's request and builds its acknowledgement; nil when it was not taken.
    func acknowledge(_ envelopeID: String, _ frame: JSON) -> JSON? {
        var ack: JSON = ["envelope_id": .string(envelopeID)]
        let payload = frame["payload"] ?? [:]
        let request: SlackRequest
        switch frame["type"]?.string {
        case "events_api": request = SlackInbound.event(payload)
        case "slash_commands":
            request = SlackInbound.command((payload.object ?? [:]).compactMapValues { $0.string })
        case "interactive":
            request = SlackInbound.interaction(payload)
            if let problem = SlackInbound.codeShapeError(request), frame["accepts_response_payload"]?.bool == true {
                ack["payload"] = ["response_action": "errors", "errors": ["code": .string(problem)]]
                return ack
            }
        default:
            request = .ignore("envelope type \(frame["type"]?.string ?? "?")")
        }
        if service.accept(request) == .busy { return nil }
        return ack
    }
}
