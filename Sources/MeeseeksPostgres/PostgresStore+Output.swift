import MeeseeksCore

/// Jobs' output, in chunks, capped per job.
extension PostgresStore {

    public func appendOutput(_ id: Int64, _ bytes: [UInt8], limit: Int) throws {
        guard !bytes.isEmpty else { return }
        try pool.transaction { session in
            // The job's row is locked, so two appends to one job keep their order and the cap.
            guard
                let row = try session.query("SELECT output_bytes, output_dropped FROM jobs WHERE id = $1 FOR UPDATE", [.int(id)]).rows.first
            else { return }
            let size = Int(try row.int(0) ?? 0)
            let dropped = Int(try row.int(1) ?? 0)
            let room = max(0, limit - size)
            var chunk = Array(bytes.prefix(room))
            let newlyDropped = bytes.count - chunk.count
            if newlyDropped > 0, dropped == 0 {
                chunk += Array("\n[… output truncated: this job printed more than \(limit) bytes; the rest was not kept …]\n".utf8)
            }
            if !chunk.isEmpty {
                try session.query(
                    """
                    INSERT INTO job_output (job_id, seq, "offset", data)
                    VALUES ($1, (SELECT COALESCE(MAX(seq), 0) + 1 FROM job_output WHERE job_id = $1), $2, $3)
                    """,
                    [.int(id), .int(Int64(size)), .bytes(chunk)])
            }
            try session.query(
                "UPDATE jobs SET output_bytes = output_bytes + $1, output_dropped = output_dropped + $2 WHERE id = $3",
                [.int(Int64(chunk.count)), .int(Int64(newlyDropped)), .int(id)])
        }
    }

    public func output(_ id: Int64, from offset: Int, limit: Int) throws -> [UInt8] {
        // The window's end saturates: an offset near Int.max reads nothing rather than trapping.
        let offset = max(0, offset)
        let end = offset.addingReportingOverflow(max(0, limit)).overflow ? Int.max : offset + max(0, limit)
        let rows = try pool.withConnection { session in
            try session.query(
                """
                SELECT "offset", data FROM job_output
                WHERE job_id = $1 AND "offset" + length(data) > $2 AND "offset" < $3 ORDER BY seq
                """,
                [.int(id), .int(Int64(offset)), .int(Int64(end))]
            ).rows
        }
        var result: [UInt8] = []
        for row in rows {
            let start = Int(try row.int(0) ?? 0)
            let data = try row.bytes(1) ?? []
            let from = max(0, offset - start)
            let to = min(data.count, end - start)
            if from < to { result += data[from..<to] }
        }
        return result
    }

    public func outputSize(_ id: Int64) throws -> Int {
        Int(try pool.withConnection { try $0.query("SELECT output_bytes FROM jobs WHERE id = $1", [.int(id)]).rows.first?.int(0) } ?? 0)
    }
}
