import Foundation
import HTTPTypes
public import Hummingbird
import Logging
import MeeseeksCore
import Metrics

/// `POST /slack/events`, `/slack/interactivity` and `/slack/commands`: signature first, then a
/// quick answer, then the work (queued on the Slack service).
public struct SlackRoutes<Context: RequestContext>: Sendable {
    let service: (any SlackIntake)?
    let signature: SlackSignature?
    let clock: @Sendable () -> Double

    /// Slack's payloads are small; anything larger is refused unread.
    public static var bodyLimit: Int { 256 * 1024 }

    /// - Parameters:
    ///   - service: nil when Slack is not configured (requests are refused with 503).
    ///   - signingSecret: `SLACK_SIGNING_SECRET`; without it every request is refused.
    public init(
        service: (any SlackIntake)?, signingSecret: String?, clock: @escaping @Sendable () -> Double = { Date().timeIntervalSince1970 }
    ) {
        self.service = service
        self.signature = signingSecret.flatMap { $0.isEmpty ? nil : SlackSignature(secret: $0) }
        self.clock = clock
    }

    public func add(to router: Router<Context>) {
        router.post("/slack/events") { request, _ in
            await handle(request, route: "events") { body, service in
                guard let json = JSON.decode(body) else { return (.badRequest, "malformed JSON") }
                if json["type"]?.string == "url_verification" {
                    return (.ok, json["challenge"]?.string ?? "")
                }
                return service.accept(SlackInbound.event(json)).answer
            }
        }
        router.post("/slack/commands") { request, _ in
            await handle(request, route: "commands") { body, service in
                let form = SlackInbound.form(body)
                if form["ssl_check"] == "1" { return (.ok, "") }
                guard form["command"] != nil else { return (.badRequest, "not a slash command") }
                return service.accept(SlackInbound.command(form)).answer
            }
        }
        router.post("/slack/interactivity") { request, _ in
            await handle(request, route: "interactivity") { body, service in
                guard let payload = SlackInbound.form(body)["payload"].flatMap({ JSON.decode(Array($0.utf8)) }) else {
                    return (.badRequest, "missing or malformed payload")
                }
                let request = SlackInbound.interaction(payload)
                if let problem = SlackInbound.codeShapeError(request) {
                    let errors: JSON = ["response_action": "errors", "errors": ["code": .string(problem)]]
                    return (.ok, String(decoding: errors.encoded(), as: UTF8.self))
                }
                return service.accept(request).answer
            }
        }
    }

    /// Reads the raw body (capped), verifies the signature, and answers at once.
    func handle(_ request: Request, route: String, _ body: ([UInt8], any SlackIntake) -> (HTTPResponse.Status, String)) async -> Response {
        let started = ContinuousClock.now
        var outcome = "ok"
        defer {
            MetricCache.counter("meeseeks_slack_requests_total", [("route", route), ("outcome", outcome)]).increment()
            MetricCache.timer("meeseeks_slack_request_duration_seconds", [("route", route)])
                .recordInterval(since: started)
        }
        var request = request
        let buffer: ByteBuffer
        do {
            buffer = try await request.collectBody(upTo: Self.bodyLimit)
        } catch {
            outcome = "too_large"
            return Self.text(.contentTooLarge, "request body over \(Self.bodyLimit) bytes")
        }
        let bytes = Array(buffer.readableBytesView)
        guard let signature else {
            outcome = "unconfigured"
            return Self.text(.unauthorized, "SLACK_SIGNING_SECRET is not set on the box")
        }
        let signed = request.headers[HTTPField.Name("X-Slack-Signature")!]
        do {
            try signature.verify(
                timestamp: request.headers[HTTPField.Name("X-Slack-Request-Timestamp")!], signature: signed, body: bytes,
                now: clock())
        } catch {
            outcome = "bad_signature"
            return Self.text(.unauthorized, "invalid request: \(error)")
        }
        guard let service else {
            outcome = "unavailable"
            return Self.text(.serviceUnavailable, "Slack is not configured on this box")
        }
        // A signature is valid for five minutes either way: one seen before is a replay (a
        // captured slash command or click sent again), acknowledged and not acted on.
        if let signed {
            switch service.firstSighting(signature: signed, window: signature.window) {
            case .first: break
            case .replay:
                outcome = "replayed"
                return Self.text(.ok, "")
            case .unrecorded:
                outcome = "busy"
                return Self.text(.serviceUnavailable, "the box cannot keep its state right now; try again")
            }
        }
        let (status, text) = body(bytes, service)
        if status == .serviceUnavailable { outcome = "busy" }
        if status != .ok, status != .serviceUnavailable { outcome = "bad_request" }
        let json = text.hasPrefix("{")
        return Response(
            status: status, headers: [.contentType: json ? "application/json" : "text/plain; charset=utf-8"],
            body: .init(byteBuffer: ByteBuffer(string: text)))
    }

    static func text(_ status: HTTPResponse.Status, _ message: String) -> Response {
        Response(status: status, headers: [.contentType: "text/plain; charset=utf-8"], body: .init(byteBuffer: ByteBuffer(string: message)))
    }
}
