import Crypto
import Foundation
import MeeseeksCore

/// Slack's request signing: `v0=` + hex(HMAC-SHA256(secret, "v0:{timestamp}:{raw body}")).
public struct SlackSignature: Sendable {
    let key: SymmetricKey
    /// Seconds of clock skew accepted, either way.
    public let window: Double

    public init(secret: String, window: Double = 300) {
        self.key = SymmetricKey(data: Array(secret.utf8))
        self.window = window
    }

    public enum Failure: Error, Hashable, Sendable, CustomStringConvertible {
        case missingHeaders
        case badTimestamp
        case stale
        case mismatch

        public var description: String {
            switch self {
            case .missingHeaders: "missing X-Slack-Request-Timestamp or X-Slack-Signature"
            case .badTimestamp: "X-Slack-Request-Timestamp is not a number"
            case .stale: "the request timestamp is more than 5 minutes from now"
            case .mismatch: "the signature does not match"
            }
        }
    }

    public func signature(timestamp: String, body: [UInt8]) -> String {
        var mac = HMAC<SHA256>(key: key)
        mac.update(data: Array("v0:\(timestamp):".utf8))
        mac.update(data: body)
        return "v0=" + Self.hex(Array(mac.finalize()))
    }

    private static let digits = Array("0123456789abcdef".utf8)

    /// Lowercase hex, without a formatter per byte.
    static func hex(_ bytes: [UInt8]) -> String {
        var out = [UInt8]()
        out.reserveCapacity(bytes.count * 2)
        for byte in bytes {
            out.append(digits[Int(byte >> 4)])
            out.append(digits[Int(byte & 0x0f)])
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// Checks a request's headers against its raw body, before anything is parsed.
    public func verify(timestamp: String?, signature: String?, body: [UInt8], now: Double) throws(Failure) {
        guard let timestamp, let signature else { throw .missingHeaders }
        guard let seconds = Int64(timestamp) else { throw .badTimestamp }
        // Whole seconds, as Slack's SDKs compare them. The timestamp is anyone's text: a difference
        // that overflows (`-9223372036854775808`) is as stale as any other far-off time.
        let (difference, overflow) = Int64(now.rounded(.down)).subtractingReportingOverflow(seconds)
        guard !overflow, difference.magnitude <= UInt64(window) else { throw .stale }
        let expected = self.signature(timestamp: timestamp, body: body)
        guard ConstantTime.equals(Array(expected.utf8), Array(signature.utf8)) else { throw .mismatch }
    }
}
