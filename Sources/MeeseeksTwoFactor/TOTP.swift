import Crypto
import Foundation
import MeeseeksCore

/// Time-based one-time passwords (RFC 6238) over HOTP (RFC 4226), with swift-crypto's HMACs.
public struct TOTP: Hashable, Sendable {
    public enum Algorithm: String, Hashable, Sendable, CaseIterable {
        case sha1, sha256, sha512
    }

    public var secret: [UInt8]
    public var algorithm: Algorithm
    public var digits: Int
    public var period: Int

    public init(secret: [UInt8], algorithm: Algorithm = .sha1, digits: Int = 6, period: Int = 30) {
        self.secret = secret
        self.algorithm = algorithm
        self.digits = digits
        self.period = period
    }

    /// The time step of `time` (seconds since 1970).
    public func step(at time: Double) -> Int64 {
        Int64((time / Double(period)).rounded(.down))
    }

    /// The code for a time step, zero-padded to `digits`.
    public func code(step: Int64) -> String {
        var counter = UInt64(bitPattern: step).bigEndian
        let message = withUnsafeBytes(of: &counter) { Array($0) }
        let key = SymmetricKey(data: secret)
        let mac: [UInt8] =
            switch algorithm {
            case .sha1: Array(HMAC<Insecure.SHA1>.authenticationCode(for: message, using: key))
            case .sha256: Array(HMAC<SHA256>.authenticationCode(for: message, using: key))
            case .sha512: Array(HMAC<SHA512>.authenticationCode(for: message, using: key))
            }
        // Dynamic truncation (RFC 4226 §5.3).
        let offset = Int(mac[mac.count - 1] & 0x0f)
        let binary =
            (UInt32(mac[offset] & 0x7f) << 24) | (UInt32(mac[offset + 1]) << 16) | (UInt32(mac[offset + 2]) << 8)
            | UInt32(mac[offset + 3])
        var modulus: UInt32 = 1
        for _ in 0..<digits { modulus *= 10 }
        let value = String(binary % modulus)
        return String(repeating: "0", count: digits - value.count) + value
    }

    public func code(at time: Double) -> String {
        code(step: step(at: time))
    }

    /// The step within ±`window` of `time` whose code is `candidate`, compared in constant time.
    public func matchingStep(_ candidate: String, at time: Double, window: Int64 = 1) -> Int64? {
        let now = step(at: time)
        var found: Int64?
        for step in (now - window)...(now + window) {
            let expected = Array(code(step: step).utf8)
            if ConstantTime.equals(expected, Array(candidate.utf8)), found == nil { found = step }
        }
        return found
    }

    /// `otpauth://` for authenticator apps.
    public func uri(account: String, issuer: String) -> String {
        let label =
            "\(issuer):\(account)".addingPercentEncoding(
                withAllowedCharacters: .urlPathAllowed.subtracting(CharacterSet(charactersIn: ":@/"))) ?? account
        let issuerQuery =
            issuer.addingPercentEncoding(withAllowedCharacters: .urlQueryAllowed.subtracting(CharacterSet(charactersIn: "&=+"))) ?? issuer
        return
            "otpauth://totp/\(label)?secret=\(Base32.encode(secret))&issuer=\(issuerQuery)&algorithm=\(algorithm.rawValue.uppercased())&digits=\(digits)&period=\(period)"
    }
}

/// RFC 4648 base32, as authenticator apps use it (no padding on output; padding and case ignored on input).
public enum Base32 {
    static let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567")

    public static func encode(_ bytes: [UInt8]) -> String {
        var output = ""
        var buffer: UInt32 = 0
        var bits = 0
        for byte in bytes {
            buffer = (buffer << 8) | UInt32(byte)
            bits += 8
            while bits >= 5 {
                output.append(alphabet[Int((buffer >> UInt32(bits - 5)) & 31)])
                bits -= 5
            }
        }
        if bits > 0 { output.append(alphabet[Int((buffer << UInt32(5 - bits)) & 31)]) }
        return output
    }

    public static func decode(_ text: String) -> [UInt8]? {
        var output: [UInt8] = []
        var buffer: UInt32 = 0
        var bits = 0
        for character in text.uppercased() where character != "=" && character != " " {
            guard let value = alphabet.firstIndex(of: character) else { return nil }
            buffer = (buffer << 5) | UInt32(value)
            bits += 5
            if bits >= 8 {
                output.append(UInt8((buffer >> UInt32(bits - 8)) & 0xff))
                bits -= 8
            }
        }
        return output
    }
}
