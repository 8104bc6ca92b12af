import AsyncHTTPClient
import Foundation
import Logging
import MeeseeksCore
import Metrics
import NIOCore
import NIOHTTP1

/// A client of Slack's Web API (base URL from `SLACK_API_URL`), answering with what a caller needs
/// to decide: the JSON, and whether to retry and when.
public struct SlackWebAPI: Sendable {
    public let baseURL: String
    let botToken: String?
    let appToken: String?
    let timeout: TimeAmount

    public init(baseURL: String?, botToken: String?, appToken: String?, timeout: TimeAmount = .seconds(10)) {
        var base = baseURL.flatMap { $0.isEmpty ? nil : $0 } ?? "https://slack.com/api/"
        if !base.hasSuffix("/") { base += "/" }
        self.baseURL = base
        self.botToken = botToken
        self.appToken = appToken
        self.timeout = timeout
    }

    public enum Outcome: Sendable {
        /// `ok: true`.
        case ok(JSON)
        /// `ok: false` with Slack's error: retrying will not help.
        case refused(String, JSON)
        /// 429, 5xx or a network failure: try again, no sooner than `after` seconds when given.
        case retry(reason: String, after: Double?)
    }

    public enum Token: Sendable { case bot, app }

    /// Calls `method` with a JSON body (or a form, for methods Slack reads only as forms).
    public func call(_ method: String, _ body: JSON = [:], token: Token = .bot, form: Bool = false) async -> Outcome {
        var request = HTTPClientRequest(url: baseURL + method)
        request.method = .POST
        let secret = token == .bot ? botToken : appToken
        if let secret { request.headers.add(name: "Authorization", value: "Bearer \(secret)") }
        if form {
            request.headers.add(name: "Content-Type", value: "application/x-www-form-urlencoded")
            let pairs = (body.object ?? [:]).sorted { $0.key < $1.key }.map { key, value -> String in
                let text = value.string ?? String(decoding: value.encoded(), as: UTF8.self)
                return "\(key)=\(text.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? text)"
            }
            request.body = .bytes(ByteBuffer(string: pairs.joined(separator: "&")))
        } else {
            request.headers.add(name: "Content-Type", value: "application/json; charset=utf-8")
            request.body = .bytes(ByteBuffer(bytes: body.encoded()))
        }
        let started = ContinuousClock.now
        let outcome: Outcome
        var status = "network_error"
        do {
            let response = try await HTTPClient.shared.execute(request, timeout: timeout)
            let bytes = try await response.body.collect(upTo: 8 << 20)
            status = String(response.status.code)
            outcome = Self.classify(status: Int(response.status.code), headers: response.headers, body: Array(bytes.readableBytesView))
        } catch {
            outcome = .retry(reason: "network: \(error)", after: nil)
        }
        MetricCache.counter("meeseeks_slack_api_calls_total", [("method", method), ("status", status)]).increment()
        MetricCache.timer("meeseeks_slack_api_duration_seconds", [("method", method)])
            .recordInterval(since: started)
        return outcome
    }

    /// POSTs a file's raw bytes to an upload URL from `files.getUploadURLExternal`. The URL is the
    /// credential: no token goes with it. Slack answers 200 when the bytes arrived; 429, 5xx and
    /// network failures are worth another try, any other status is a refusal.
    public func upload(_ bytes: [UInt8], to url: String, timeout: TimeAmount = .seconds(120)) async -> Outcome {
        var request = HTTPClientRequest(url: url)
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/octet-stream")
        request.body = .bytes(ByteBuffer(bytes: bytes))
        let started = ContinuousClock.now
        let outcome: Outcome
        var status = "network_error"
        do {
            let response = try await HTTPClient.shared.execute(request, timeout: timeout)
            // The upload's answer carries nothing we need: drained, whatever it is.
            _ = try? await response.body.collect(upTo: 64 << 10)
            status = String(response.status.code)
            outcome =
                switch Int(response.status.code) {
                case 200: .ok([:])
                case 429: .retry(reason: "rate limited", after: Self.retryAfter(response.headers) ?? 1)
                case 500...: .retry(reason: "HTTP \(status)", after: nil)
                default: .refused("upload_http_\(status)", [:])
                }
        } catch {
            outcome = .retry(reason: "network: \(error)", after: nil)
        }
        MetricCache.counter("meeseeks_slack_api_calls_total", [("method", "upload"), ("status", status)]).increment()
        MetricCache.timer("meeseeks_slack_api_duration_seconds", [("method", "upload")]).recordInterval(since: started)
        return outcome
    }

    static func classify(status: Int, headers: HTTPHeaders, body: [UInt8]) -> Outcome {
        if status == 429 {
            return .retry(reason: "rate limited", after: retryAfter(headers) ?? 1)
        }
        if status >= 500 { return .retry(reason: "HTTP \(status)", after: nil) }
        guard let json = JSON.decode(body) else { return .retry(reason: "HTTP \(status) with no JSON", after: nil) }
        if json["ok"]?.bool == true { return .ok(json) }
        let error = json["error"]?.string ?? "unknown_error"
        if error == "ratelimited" { return .retry(reason: "rate limited", after: retryAfter(headers)) }
        return .refused(error, json)
    }

    /// `Retry-After` in seconds, kept between 0 and an hour: "inf", "nan" or 1e300 from a broken
    /// proxy must not park a message forever.
    static func retryAfter(_ headers: HTTPHeaders) -> Double? {
        guard let text = headers.first(name: "Retry-After"), text.count <= 16, let seconds = Double(text), seconds.isFinite else {
            return nil
        }
        return min(3600, max(0, seconds))
    }
}

extension Timer {
    func recordInterval(since start: ContinuousClock.Instant) {
        let elapsed = ContinuousClock.now - start
        recordNanoseconds(elapsed.components.seconds * 1_000_000_000 + elapsed.components.attoseconds / 1_000_000_000)
    }
}
