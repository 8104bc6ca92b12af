public import MeeseeksCore

/// Jobs' output, in chunks, capped per job.
extension SQLiteStore {

    public func appendOutput(_ id: Int64, _ bytes: [UInt8], limit: Int) throws {
        guard !bytes.isEmpty else { return }
        try database.transaction { db in
            guard let row = try db.query("SELECT output_bytes, output_dropped FROM jobs WHERE id = ?", [.integer(id)]).first
            else { return }
            let size = Int(row.int(0) ?? 0)
            let dropped = Int(row.int(1) ?? 0)
            let room = max(0, limit - size)
            var chunk = Array(bytes.prefix(room))
            let newlyDropped = bytes.count - chunk.count
            if newlyDropped > 0, dropped == 0 {
                chunk += Array("\n[… output truncated: this job printed more than \(limit) bytes; the rest was not kept …]\n".utf8)
            }
            if !chunk.isEmpty {
                let seq =
                    (try db.query("SELECT COALESCE(MAX(seq), 0) + 1 FROM job_output WHERE job_id = ?", [.integer(id)])
                        .first?.int(0)) ?? 1
                try db.query(
                    "INSERT INTO job_output (job_id, seq, offset, data) VALUES (?, ?, ?, ?)",
                    [.integer(id), .integer(seq), .integer(Int64(size)), .blob(chunk)])
            }
            try db.query(
                "UPDATE jobs SET output_bytes = output_bytes + ?, output_dropped = output_dropped + ? WHERE id = ?",
                [.integer(Int64(chunk.count)), .integer(Int64(newlyDropped)), .integer(id)])
        }
    }

    public func output(_ id: Int64, from offset: Int, limit: Int) throws -> [UInt8] {
        // The window's end saturates: an offset near Int.max reads nothing rather than trapping.
        let offset = max(0, offset)
        let end = offset.addingReportingOverflow(max(0, limit)).overflow ? Int.max : offset + max(0, limit)
        let rows = try database.query(
            "SELECT offset, data FROM job_output WHERE job_id = ? AND offset + length(data) > ? AND offset < ? ORDER BY seq",
            [.integer(id), .integer(Int64(offset)), .integer(Int64(end))])
        var result: [UInt8] = []
        for row in rows {
            let start = Int(row.int(0) ?? 0)
            let data = row.blob(1)
            let from = max(0, offset - start)
            let to = min(data.count, end - start)
            if from < to { result += data[from..<to] }
        }
        return result
    }

    public func outputSize(_ id: Int64) throws -> Int {
        Int(try database.query("SELECT output_bytes FROM jobs WHERE id = ?", [.integer(id)]).first?.int(0) ?? 0)
    }

    public func queueStats() throws -> (depth: Int, oldest: Double?) {
        let row = try database.query("SELECT COUNT(*), MIN(created_at) FROM jobs WHERE status = 'queued' AND is_broadcast = 0").first
        return (Int(row?.int(0) ?? 0), row?.double(1))
    }
}
