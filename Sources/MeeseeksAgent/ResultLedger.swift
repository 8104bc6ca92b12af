import Foundation
import MeeseeksGRPC
import SwiftProtobuf

/// Results the box has not acknowledged yet, kept on disk so a restart of the agent or a dark box
/// loses none. Bounded: the oldest are dropped (with a log line) past `limit` files.
final class ResultLedger: Sendable {
    let directory: String
    let limit: Int

    init(directory: String, limit: Int = 10_000) throws {
        self.directory = directory
        self.limit = limit
        try FileManager.default.createDirectory(
            atPath: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
    }

    private func path(_ jobID: Int64, _ attempt: Int32) -> String { "\(directory)/\(jobID)-\(attempt).result" }

    /// Writes a result atomically (temporary file, then rename).
    func keep(_ result: Meeseeks_Agent_V1_JobResult) throws {
        let data = try result.serializedData()
        let final = path(result.jobID, result.attempt)
        let temporary = final + ".tmp"
        try data.write(to: URL(fileURLWithPath: temporary))
        guard rename(temporary, final) == 0 else { throw POSIXError(.EIO) }
        trim()
    }

    func forget(jobID: Int64, attempt: Int32) {
        unlink(path(jobID, attempt))
    }

    /// Every result still held, oldest job first.
    func pending() -> [Meeseeks_Agent_V1_JobResult] {
        let names = ((try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []).filter { $0.hasSuffix(".result") }
        return names.compactMap { name in
            guard let data = FileManager.default.contents(atPath: "\(directory)/\(name)") else { return nil }
            return try? Meeseeks_Agent_V1_JobResult(serializedBytes: data)
        }.sorted { ($0.jobID, $0.attempt) < ($1.jobID, $1.attempt) }
    }

    private func trim() {
        let all = pending()
        guard all.count > limit else { return }
        for result in all.prefix(all.count - limit) { forget(jobID: result.jobID, attempt: result.attempt) }
    }
}
