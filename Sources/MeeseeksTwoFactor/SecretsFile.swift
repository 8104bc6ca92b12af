import Foundation

/// The file of TOTP secrets an agent holds, one user per line:
///
///     # user        secret (base32)                     algorithm  digits
///     U01SRE0001    JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP    sha1       6
///
/// It must belong to the agent's user and be readable by nobody else; a looser file is refused.
public struct SecretsFile: Sendable {
    public var path: String
    public var entries: [String: TOTP]

    public struct Problem: Error, CustomStringConvertible, Sendable {
        public var description: String
    }

    public init(path: String, entries: [String: TOTP] = [:]) {
        self.path = path
        self.entries = entries
    }

    /// Reads and checks the file: permissions first, then every line.
    public static func load(_ path: String) throws(Problem) -> SecretsFile {
        var info = stat()
        guard stat(path, &info) == 0 else {
            throw Problem(description: "cannot read the 2FA secrets file \(path): \(String(cString: strerror(errno)))")
        }
        if info.st_mode & 0o077 != 0 {
            throw Problem(
                description:
                    "the 2FA secrets file \(path) is readable or writable by others (mode \(String(info.st_mode & 0o777, radix: 8))); run chmod 600 \(path)"
            )
        }
        if info.st_uid != getuid() {
            throw Problem(description: "the 2FA secrets file \(path) belongs to another user; it must belong to the agent's user")
        }
        guard let data = FileManager.default.contents(atPath: path), let text = String(data: data, encoding: .utf8) else {
            throw Problem(description: "cannot read the 2FA secrets file \(path)")
        }
        return try parse(text, path: path)
    }

    static func parse(_ text: String, path: String) throws(Problem) -> SecretsFile {
        var file = SecretsFile(path: path)
        for (index, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = raw.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false).first ?? ""
            let fields = line.split(whereSeparator: \.isWhitespace).map(String.init)
            if fields.isEmpty { continue }
            func fail(_ why: String) -> Problem { Problem(description: "\(path):\(index + 1): \(why)") }
            guard fields.count >= 2, fields.count <= 4 else { throw fail("expected: USER SECRET [ALGORITHM] [DIGITS]") }
            guard let secret = Base32.decode(fields[1]), secret.count >= 10 else {
                throw fail("the secret is not base32 of at least 80 bits")
            }
            var totp = TOTP(secret: secret)
            if fields.count >= 3 {
                guard let algorithm = TOTP.Algorithm(rawValue: fields[2].lowercased()) else {
                    throw fail("algorithm must be sha1, sha256 or sha512")
                }
                totp.algorithm = algorithm
            }
            if fields.count == 4 {
                guard let digits = Int(fields[3]), digits == 6 || digits == 8 else { throw fail("digits must be 6 or 8") }
                totp.digits = digits
            }
            if file.entries[fields[0]] != nil { throw fail("user \(fields[0]) is listed twice") }
            file.entries[fields[0]] = totp
        }
        return file
    }

    /// Writes the file atomically with mode 0600.
    public func save() throws {
        var lines = ["# Meeseeks Box 2FA secrets: USER SECRET ALGORITHM DIGITS. Keep this file mode 600."]
        for (user, totp) in entries.sorted(by: { $0.key < $1.key }) {
            lines.append("\(user) \(Base32.encode(totp.secret)) \(totp.algorithm.rawValue) \(totp.digits)")
        }
        let temporary = path + ".tmp-\(getpid())"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw Problem(description: "cannot write \(temporary): \(String(cString: strerror(errno)))") }
        let bytes = Array((lines.joined(separator: "\n") + "\n").utf8)
        let written = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        fchmod(fd, 0o600)
        close(fd)
        guard written == bytes.count, rename(temporary, path) == 0 else {
            unlink(temporary)
            throw Problem(description: "cannot write \(path): \(String(cString: strerror(errno)))")
        }
    }
}
