/// Seals secrets before they are stored (secret argument values, 2FA codes, open dialogs' state)
/// and opens them again, with a key only the box holds. A store that is copied, backed up or read
/// by a job of the embedded agent yields no secret.
public protocol SecretSealer: Sendable {
    /// Encrypts and authenticates `plaintext`; `context` (a job or dialog id) is bound to it, so a
    /// sealed value moved to another row does not open.
    func seal(_ plaintext: [UInt8], context: String) throws -> [UInt8]
    /// The plaintext, or `SealError.unreadable` when the key or the context is not the one it
    /// was sealed with, or the bytes were altered.
    func open(_ sealed: [UInt8], context: String) throws(SealError) -> [UInt8]
}

public enum SealError: Error, Hashable, Sendable, CustomStringConvertible {
    case unreadable
    case cannotSeal(String)

    public var description: String {
        switch self {
        case .unreadable: "a sealed secret cannot be opened with this box's key (the key changed, or the data was altered)"
        case .cannotSeal(let why): "cannot seal a secret: \(why)"
        }
    }
}

/// What a job must not lose and must not store in clear: its secret argument values and the
/// user's 2FA code. Kept sealed with the job until it ends, so a hand-back or a restart
/// dispatches the real values; erased when the job ends.
public struct JobSecrets: Hashable, Sendable {
    public var arguments: [String: String]
    public var code: String?

    public init(arguments: [String: String] = [:], code: String? = nil) {
        self.arguments = arguments
        self.code = code
    }

    public var isEmpty: Bool { arguments.isEmpty && code == nil }

    /// A flat encoding without Codable: `name=value` lines, each part percent-escaped.
    public var encoded: [UInt8] {
        var lines = arguments.sorted { $0.key < $1.key }.map { "a \(Self.escape($0.key)) \(Self.escape($0.value))" }
        if let code { lines.append("c \(Self.escape(code))") }
        return Array(lines.joined(separator: "\n").utf8)
    }

    public init?(decoding bytes: [UInt8]) {
        self.init()
        for line in String(decoding: bytes, as: UTF8.self).split(separator: "\n") {
            let parts = line.split(separator: " ", omittingEmptySubsequences: false).map(String.init)
            switch (parts.first, parts.count) {
            case ("a", 3):
                guard let name = Self.unescape(parts[1]), let value = Self.unescape(parts[2]) else { return nil }
                arguments[name] = value
            case ("c", 2):
                guard let value = Self.unescape(parts[1]) else { return nil }
                code = value
            default:
                return nil
            }
        }
    }

    /// `%`, space and control bytes as `%XX`; everything else as it is.
    static func escape(_ text: String) -> String {
        var out: [UInt8] = []
        for byte in text.utf8 {
            if byte == UInt8(ascii: "%") || byte == UInt8(ascii: " ") || byte < 0x20 {
                out += Array("%".utf8) + Array(String(byte, radix: 16, uppercase: true).leftPadded(2).utf8)
            } else {
                out.append(byte)
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    static func unescape(_ text: String) -> String? {
        var out: [UInt8] = []
        let bytes = Array(text.utf8)
        var i = 0
        while i < bytes.count {
            if bytes[i] == UInt8(ascii: "%") {
                guard i + 2 < bytes.count, let value = UInt8(String(decoding: bytes[(i + 1)...(i + 2)], as: UTF8.self), radix: 16)
                else { return nil }
                out.append(value)
                i += 3
            } else {
                out.append(bytes[i])
                i += 1
            }
        }
        return String(decoding: out, as: UTF8.self)
    }
}

extension String {
    fileprivate func leftPadded(_ width: Int) -> String {
        count >= width ? self : String(repeating: "0", count: width - count) + self
    }
}
