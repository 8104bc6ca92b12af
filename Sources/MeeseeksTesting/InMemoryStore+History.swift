public import MeeseeksCore

/// Jobs as history: listings, output and purging.
extension InMemoryStore: JobHistoryStore {

    public func job(_ id: Int64) throws -> Job? {
        read { $0.jobs[id]?.job }
    }

    public func jobs(_ query: JobQuery) throws -> [Job] {
        read { state in
            let matching = state.jobRows(after: query.afterID ?? .min).lazy.map(\.job).filter { job in
                (query.requester.map { job.requester == $0 } ?? true)
                    && (query.statuses.map { $0.contains(job.status) } ?? true)
                    && (query.parentID.map { job.parentID == $0 } ?? true)
                    && (!query.topLevelOnly || job.parentID == nil)
            }
            let limit = query.limit.sqliteLimit
            return query.oldestFirst ? Array(matching.prefix(limit)) : Array(Array(matching).reversed().prefix(limit))
        }
    }

    public func appendOutput(_ id: Int64, _ bytes: [UInt8], limit: Int) throws {
        guard !bytes.isEmpty else { return }
        write { state in
            guard var row = state.jobs[id] else { return }
            let room = max(0, limit - row.output.count)
            var chunk = Array(bytes.prefix(room))
            let newlyDropped = bytes.count - chunk.count
            // One marker, where the output was first cut; it counts as output.
            if newlyDropped > 0, row.dropped == 0 {
                chunk += Array(
                    "\n[… output truncated: this job printed more than \(limit) bytes; the rest was not kept …]\n".utf8)
            }
            row.output += chunk
            row.dropped += newlyDropped
            state.jobs[id] = row
        }
    }

    public func output(_ id: Int64, from offset: Int, limit: Int) throws -> [UInt8] {
        // The window's end saturates: an offset near Int.max reads nothing rather than trapping.
        let offset = max(0, offset)
        let sum = offset.addingReportingOverflow(max(0, limit))
        let end = sum.overflow ? Int.max : sum.partialValue
        return read { state in
            guard let output = state.jobs[id]?.output, offset < output.count else { return [] }
            return Array(output[offset..<min(end, output.count)])
        }
    }

    public func outputSize(_ id: Int64) throws -> Int {
        read { $0.jobs[id]?.output.count ?? 0 }
    }

    public func purge(before time: Double) throws -> Int {
        write { state in
            // Finished top-level jobs, then (as SQLite's ON DELETE CASCADE) their descendants.
            let purged = state.jobRows().filter { row in
                row.job.parentID == nil && row.job.status.isFinal && (row.job.finishedAt.map { $0 < time } ?? false)
            }.map(\.job.id)
            var doomed = Set(purged)
            var added = doomed
            while !added.isEmpty {
                added = Set(
                    state.jobs.values.compactMap { row in
                        row.job.parentID.flatMap {
                            added.contains($0) && !doomed.contains(row.job.id) ? row.job.id : nil
                        }
                    })
                doomed.formUnion(added)
            }
            for id in doomed { state.jobs[id] = nil }
            state.jobOrder.removeAll { doomed.contains($0) }
            state.dialogs = state.dialogs.filter { $0.value.updatedAt >= time }
            state.audit.removeAll { $0.time < time }
            state.outbox.removeAll { $0.state != .pending && $0.message.createdAt < time }
            state.messageRefs = state.messageRefs.filter { $0.value.updatedAt >= time }
            return purged.count
        }
    }
}
