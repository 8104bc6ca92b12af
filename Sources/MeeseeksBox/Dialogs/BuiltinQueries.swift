import MeeseeksCore

/// The read-only built-ins (`jobs`, `last`, `job`, `logs`, `tail`, `agents`, `audit`), answered
/// from the history, as views.
struct BuiltinQueries: Sendable {
    let history: any JobHistoryStore
    let audit: any AuditStore

    private func info(_ text: String) -> DialogView { .notice(.init(.info, text)) }
    private func failed(_ what: String) -> DialogView {
        .notice(.init(.invalid, "I couldn't read \(what); the box's store failed. Try again."))
    }

    func answer(_ call: Builtin, for user: String, isAdmin: Bool) -> DialogView {
        do {
            return try answering(call, for: user, isAdmin: isAdmin)
        } catch {
            return failed("that")
        }
    }

    private func answering(_ call: Builtin, for user: String, isAdmin: Bool) throws -> DialogView {
        func own(_ id: Int64) throws -> Job? {
            guard let job = try history.job(id), job.requester == user || isAdmin else { return nil }
            return job
        }
        let missing: (Int64) -> DialogView = { .notice(.init(.invalid, "There is no job #\($0) of yours.")) }
        switch call {
        case .jobs(let user):
            return info(BuiltinFormatter.jobs(try history.jobs(JobQuery(requester: user, topLevelOnly: true, limit: 10))))
        case .last(let user):
            guard let job = try history.jobs(JobQuery(requester: user, topLevelOnly: true, limit: 1)).first else {
                return info("You have no jobs yet.")
            }
            return info(BuiltinFormatter.detail(job, children: try children(of: job)))
        case .job(let id):
            guard let job = try own(id) else { return missing(id) }
            return info(BuiltinFormatter.detail(job, children: try children(of: job)))
        case .logs(let id), .tail(let id):
            guard let job = try own(id) else { return missing(id) }
            let size = try history.outputSize(job.id)
            let window = 3000
            let text = String(decoding: try history.output(job.id, from: max(0, size - window), limit: window), as: UTF8.self)
            let cut = size > window ? "(last \(window) of \(size) bytes; `meeseeks logs \(id)` prints it all)\n" : ""
            return info(cut + (text.isEmpty ? "(no output)" : text))
        case .audit(let query):
            return info(BuiltinFormatter.audit(try audit.audit(query)))
        case .agents, .cancel, .kill:
            return .notice(.init(.invalid, "that is answered elsewhere"))  // routed by the orchestrator
        }
    }

    func agents(_ records: [AgentRecord]) -> DialogView {
        info(BuiltinFormatter.agents(records))
    }

    /// A broadcast's sub-jobs, oldest first.
    func children(of job: Job) throws -> [Job] {
        job.isBroadcast ? try history.jobs(JobQuery(parentID: job.id, limit: Int.max, oldestFirst: true)) : []
    }
}
