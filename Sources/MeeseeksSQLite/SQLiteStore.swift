import Foundation
public import MeeseeksCore

/// The box's state in one SQLite file (WAL mode).
public final class SQLiteStore: BoxStore {
    public let database: SQLiteDatabase
    /// Seals job secrets and dialog states; without one, storing either is refused.
    let sealer: (any SecretSealer)?

    /// Opens or creates the store at `path` and brings its schema up to date.
    public init(path: String, sealer: (any SecretSealer)? = nil) throws {
        database = try SQLiteDatabase(path: path)
        self.sealer = sealer
        try Migrations.apply(to: database)
    }

    static let jobColumns = """
        id, parent_id, command, arguments, requester, channel, selector, agent, status, exit_code, reason,
        created_at, started_at, finished_at, attempt, dialog_id, is_broadcast, not_before, confirmed, origin
        """

    func requireSealer() throws -> any SecretSealer {
        guard let sealer else { throw SealError.cannotSeal("this store was opened without the box's secret key") }
        return sealer
    }

    static func job(from row: Row) -> Job {
        let arguments = stringMap(row.blob(3))
        return Job(
            id: row.int(0) ?? 0, parentID: row.int(1), command: row.string(2) ?? "", arguments: arguments,
            requester: row.string(4) ?? "", channel: row.string(5), selector: row.string(6) ?? "", agent: row.string(7),
            status: JobStatus(rawValue: row.string(8) ?? "") ?? .lost, exitCode: row.int(9).map(Int.init),
            reason: row.string(10), createdAt: row.double(11) ?? 0, startedAt: row.double(12),
            finishedAt: row.double(13), attempt: Int(row.int(14) ?? 0), dialogID: row.string(15),
            isBroadcast: row.int(16) == 1, notBefore: row.double(17) ?? 0, confirmed: row.int(18) == 1, origin: row.string(19))
    }

    /// A job's arguments, written by `encode` as a flat JSON object of strings. Read without
    /// Codable: `JSONDecoder` was a sixth of the box's time per job, and most jobs have none.
    /// Only this store writes the column, so a value that does not read back is a damaged row:
    /// it shows as no arguments (the job's other fields stay readable) rather than failing the
    /// whole listing.
    static func stringMap(_ bytes: [UInt8]) -> [String: String] {
        if bytes.isEmpty || bytes == Array("{}".utf8) { return [:] }
        return (try? JSONSerialization.jsonObject(with: Data(bytes))) as? [String: String] ?? [:]
    }

    static func encode(stringMap: [String: String]) throws -> String {
        if stringMap.isEmpty { return "{}" }
        return String(decoding: try JSONSerialization.data(withJSONObject: stringMap, options: [.sortedKeys]), as: UTF8.self)
    }

    static func json<T: Encodable>(_ value: T) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return String(decoding: try encoder.encode(value), as: UTF8.self)
    }
}
