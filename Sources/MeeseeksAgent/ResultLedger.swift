import Foundation
import Logging
import MeeseeksGRPC
import SwiftProtobuf
import Synchronization

/// Results the box has not acknowledged yet, kept on disk so a restart of the agent or a dark box
/// loses none, and in memory so asking what is held costs no disk read. Bounded: the oldest are
/// dropped (with a log line) past `limit`.
final class ResultLedger: Sendable {
    struct Key: Hashable, Comparable {
        var jobID: Int64
        var attempt: Int32
        static func < (a: Key, b: Key) -> Bool { (a.jobID, a.attempt) < (b.jobID, b.attempt) }
    }

    let directory: String
    let limit: Int
    let logger: Logger
    private let held = Mutex<[Key: Meeseeks_Agent_V1_JobResult]>([:])

    /// Opens the ledger, reading what a previous run left. A file that does not read back is set
    /// aside (renamed `.bad`) and logged, never silently dropped.
    init(directory: String, limit: Int = 10_000, logger: Logger) throws {
        self.directory = directory
        self.limit = limit
        self.logger = logger
        try FileManager.default.createDirectory(
            atPath: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        var found: [Key: Meeseeks_Agent_V1_JobResult] = [:]
        for name in try FileManager.default.contentsOfDirectory(atPath: directory) where name.hasSuffix(".result") {
            let path = "\(directory)/\(name)"
            do {
                let result = try Meeseeks_Agent_V1_JobResult(serializedBytes: try Data(contentsOf: URL(fileURLWithPath: path)))
                found[Key(jobID: result.jobID, attempt: result.attempt)] = result
            } catch {
                logger.error("a kept result does not read back; set aside", metadata: ["file": "\(path)", "error": "\(error)"])
                rename(path, path + ".bad")
            }
        }
        held.withLock { $0 = found }
    }

    private func path(_ key: Key) -> String { "\(directory)/\(key.jobID)-\(key.attempt).result" }

    /// Writes a result durably (temporary file, fsync, rename, folder fsync) before the box hears of it.
    func keep(_ result: Meeseeks_Agent_V1_JobResult) throws {
        let key = Key(jobID: result.jobID, attempt: result.attempt)
        let bytes = Array(try result.serializedData())
        let final = path(key)
        let temporary = final + ".tmp"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO) }
        var written = 0
        while written < bytes.count {
            let n = bytes[written...].withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
            if n < 0, errno == EINTR { continue }
            guard n > 0 else {
                close(fd)
                unlink(temporary)
                throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO)
            }
            written += n
        }
        let synced = fsync(fd) == 0
        close(fd)
        guard synced, rename(temporary, final) == 0 else {
            unlink(temporary)
            throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO)
        }
        let folder = open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if folder >= 0 {
            fsync(folder)
            close(folder)
        }
        held.withLock { $0[key] = result }
        trim()
    }

    func forget(jobID: Int64, attempt: Int32) {
        let key = Key(jobID: jobID, attempt: attempt)
        guard held.withLock({ $0.removeValue(forKey: key) }) != nil else { return }
        unlink(path(key))
    }

    /// Every result still held, oldest job first.
    func pending() -> [Meeseeks_Agent_V1_JobResult] {
        held.withLock { held in held.keys.sorted().compactMap { held[$0] } }
    }

    var isEmpty: Bool { held.withLock { $0.isEmpty } }

    private func trim() {
        let dropped = held.withLock { held -> [Key] in
            guard held.count > limit else { return [] }
            let oldest = Array(held.keys.sorted().prefix(held.count - limit))
            for key in oldest { held[key] = nil }
            return oldest
        }
        for key in dropped {
            logger.error("too many unacknowledged results: dropping the oldest", metadata: ["job_id": "\(key.jobID)", "limit": "\(limit)"])
            unlink(path(key))
        }
    }
}
