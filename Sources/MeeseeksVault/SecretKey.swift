public import Crypto
import Foundation

/// The box's sealing key: from `MEESEEKS_SECRET_KEY` (32 bytes, base64 or hex), or from a key
/// file that only the box's user may read, created on first start. Several boxes on one
/// database (HA) must share it: give them the same variable or file.
public enum SecretKey {
    public struct Problem: Error, CustomStringConvertible, Sendable {
        public var description: String
    }

    /// The key from the environment if set, else from `file` (created mode 600 if missing).
    public static func load(environment: [String: String], file: String) throws(Problem) -> (key: SymmetricKey, source: String) {
        if let text = environment["MEESEEKS_SECRET_KEY"], !text.isEmpty {
            guard let bytes = decode(text), bytes.count == 32 else {
                throw Problem(description: "MEESEEKS_SECRET_KEY must be 32 bytes in base64 or hex (openssl rand -base64 32)")
            }
            return (SymmetricKey(data: bytes), "MEESEEKS_SECRET_KEY")
        }
        return (try loadOrCreate(file), file)
    }

    static func decode(_ text: String) -> [UInt8]? {
        let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
        if trimmed.count == 64, trimmed.allSatisfy(\.isHexDigit) {
            var bytes: [UInt8] = []
            var index = trimmed.startIndex
            while index < trimmed.endIndex {
                let next = trimmed.index(index, offsetBy: 2)
                guard let byte = UInt8(trimmed[index..<next], radix: 16) else { return nil }
                bytes.append(byte)
                index = next
            }
            return bytes
        }
        return Data(base64Encoded: trimmed).map(Array.init)
    }

    /// Reads the key file, refusing one that others may read or that belongs to someone else; or
    /// creates it (exclusively, mode 600) when it does not exist.
    static func loadOrCreate(_ path: String) throws(Problem) -> SymmetricKey {
        var info = stat()
        if stat(path, &info) == 0 {
            guard info.st_mode & 0o077 == 0 else {
                throw Problem(
                    description:
                        "the secret key file \(path) is readable by others (mode \(String(info.st_mode & 0o777, radix: 8))); run chmod 600 \(path)"
                )
            }
            guard info.st_uid == getuid() else {
                throw Problem(description: "the secret key file \(path) belongs to another user")
            }
            guard let data = FileManager.default.contents(atPath: path), let bytes = decode(String(decoding: data, as: UTF8.self)),
                bytes.count == 32
            else {
                throw Problem(description: "the secret key file \(path) does not hold a 32-byte key in base64")
            }
            return SymmetricKey(data: bytes)
        }
        guard errno == ENOENT else {
            throw Problem(description: "cannot read the secret key file \(path): \(String(cString: strerror(errno)))")
        }
        let key = SymmetricKey(size: .bits256)
        let text = key.withUnsafeBytes { Data($0).base64EncodedString() } + "\n"
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard fd >= 0 else {
            throw Problem(description: "cannot create the secret key file \(path): \(String(cString: strerror(errno)))")
        }
        defer { close(fd) }
        let bytes = Array(text.utf8)
        let written = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        guard written == bytes.count, fsync(fd) == 0 else {
            unlink(path)
            throw Problem(description: "cannot write the secret key file \(path): \(String(cString: strerror(errno)))")
        }
        return key
    }
}
