import Crypto
import Foundation
import MeeseeksAPI
import MeeseeksCore
import MeeseeksHTTP

/// The API of a box in a cluster. Reads come from the database, on any box; what changes
/// something (runs, dialogs, cancels, reloads) is carried out by the leader: this box's own
/// orchestrator when it leads, else the leader, through the inbox.
struct ClusterAPI: APIService {
    let leadership: Leadership
    let store: any ClusterStore
    let config: ConfigHolder
    let forwarder: InboxForwarder
    let bootstrapToken: String?
    let readinessChecks: @Sendable () async -> [String: Bool]
    let exposition: @Sendable () -> String
    let memberID: String
    let leaseSeconds: Double
    /// How long a front door waits for the leader's answer (a failover takes a few seconds).
    static let answerTimeout: Double = 30

    private func leader() async -> BoxAPI? {
        guard let term = leadership.term else { return nil }
        await term.agentsBack.wait()
        return term.api
    }

    private func forward(_ call: ForwardedCall) async throws -> ForwardedAnswer {
        let payload = Array(try ForwardedAnswer.encoder.encode(call))
        guard let bytes = try await forwarder.call(kind: "api", payload: payload, timeout: Self.answerTimeout) else {
            throw API.Failure(.unavailable, "no box leads right now; try again in a few seconds")
        }
        let answer = try ForwardedAnswer.decoder.decode(ForwardedAnswer.self, from: Data(bytes))
        if case .failure(let failure) = answer { throw failure }
        return answer
    }

    private func dialog(_ answer: ForwardedAnswer) throws -> API.DialogState {
        guard case .dialog(let state) = answer else { throw API.Failure(.unavailable, "the leader answered something else") }
        return state
    }

    private func job(_ answer: ForwardedAnswer) throws -> Job {
        guard case .job(let job) = answer else { throw API.Failure(.unavailable, "the leader answered something else") }
        return job
    }

    // MARK: Who

    func authenticate(token: String) async -> API.Principal? {
        if let bootstrapToken, ConstantTime.equals(token, bootstrapToken) {
            return API.Principal(user: BoxAPI.bootstrapUser, isAdmin: true, mayActAsOthers: true)
        }
        let stored: APIToken?
        do {
            stored = try store.token(hash: BoxAPI.hash(token: token))
        } catch {
            return nil  // fail closed: a token that cannot be checked opens nothing
        }
        guard let stored, !stored.revoked else { return nil }
        let isAdmin = config.snapshot.engine.isAdmin(stored.user)
        return API.Principal(user: stored.user, isAdmin: isAdmin, mayActAsOthers: isAdmin)
    }

    func isAdmin(_ user: String) async -> Bool { config.snapshot.engine.isAdmin(user) }

    func impersonated(by principal: API.Principal, as other: String, request: String) async {
        do {
            try store.append(
                AuditRecord(action: .apiActedAs, user: principal.user, outcome: "ok", detail: "as \(other): \(request)"),
                at: Date().timeIntervalSince1970)
        } catch {
            // The request goes on; the trail's failure is the store's, reported by readiness.
        }
    }

    // MARK: Changes: the leader's

    func openDialog(_ request: API.OpenDialog, as user: String) async throws -> API.DialogState {
        if let api = await leader() { return try await api.openDialog(request, as: user) }
        return try dialog(try await forward(.openDialog(request, user: user, dialogID: "api-" + UUID().uuidString.lowercased())))
    }

    func send(_ input: DialogInput, to dialogID: String, as user: String) async throws -> API.DialogState {
        if let api = await leader() { return try await api.send(input, to: dialogID, as: user) }
        return try dialog(try await forward(.send(input, dialogID: dialogID, user: user)))
    }

    func messages(of dialogID: String, as user: String, after seq: Int, wait: Double) async throws -> API.DialogState {
        if let api = await leader() { return try await api.messages(of: dialogID, as: user, after: seq, wait: wait) }
        return try dialog(try await forward(.messages(dialogID: dialogID, user: user, after: seq, wait: wait)))
    }

    func run(_ request: API.RunRequest, as principal: API.Principal) async throws -> Job {
        if let api = await leader() { return try await api.run(request, as: principal) }
        return try job(try await forward(.run(request, principal: principal)))
    }

    func cancel(_ id: Int64, as principal: API.Principal) async throws -> Job {
        if let api = await leader() { return try await api.cancel(id, as: principal) }
        return try job(try await forward(.cancel(id, principal: principal)))
    }

    func decide(_ id: Int64, approve: Bool, reason: String?, as principal: API.Principal) async throws -> API.Approval {
        if let api = await leader() { return try await api.decide(id, approve: approve, reason: reason, as: principal) }
        guard case .approval(let approval) = try await forward(.decide(id, approve: approve, reason: reason, principal: principal)) else {
            throw API.Failure(.unavailable, "the leader answered something else")
        }
        return approval
    }

    func approvals(as principal: API.Principal) async throws -> [API.Approval] {
        try ApprovalList.pending(for: principal.user, store: store, snapshot: config.snapshot, now: Date().timeIntervalSince1970)
    }

    func reload() async -> (applied: Bool, diagnostics: [String]) {
        if let api = await leader() { return await api.reload() }
        do {
            if case .reload(let applied, let diagnostics) = try await forward(.reload) { return (applied, diagnostics) }
            return (false, ["the leader answered something else"])
        } catch {
            return (false, ["\(error)"])
        }
    }

    // MARK: Reads: any box

    func jobs(of user: String?, limit: Int) async throws -> [Job] {
        try store.jobs(JobQuery(requester: user, topLevelOnly: true, limit: limit))
    }

    func job(_ id: Int64, as principal: API.Principal) async throws -> API.JobDetail {
        let job = try visibleJob(id, principal)
        let children = job.isBroadcast ? try store.jobs(JobQuery(parentID: job.id, limit: Int.max, oldestFirst: true)) : []
        return API.JobDetail(job: job, children: children)
    }

    func output(of id: Int64, from offset: Int, wait: Double, as principal: API.Principal) async throws -> (bytes: [UInt8], job: Job) {
        if let api = await leader() { return try await api.output(of: id, from: offset, wait: wait, as: principal) }
        // A standby does not see the leader's live changes: it looks again every 200 ms.
        var job = try visibleJob(id, principal)
        let deadline = Date().addingTimeInterval(wait)
        while true {
            let bytes = try store.output(id, from: offset, limit: 1 << 20)
            job = try store.job(id) ?? job
            if !bytes.isEmpty || job.status.isFinal || Date() >= deadline { return (bytes, job) }
            try await Task.sleep(for: .milliseconds(200))
        }
    }

    func visibleJob(_ id: Int64, _ principal: API.Principal) throws -> Job {
        guard let job = try store.job(id), job.requester == principal.user || principal.isAdmin else {
            throw API.Failure(.notFound, "there is no job #\(id) of yours")
        }
        return job
    }

    func agents(as principal: API.Principal) async throws -> [AgentRecord] {
        if let api = await leader() { return try await api.agents(as: principal) }
        guard principal.isAdmin || !config.snapshot.engine.roles(of: principal.user).isEmpty else {
            throw API.Failure(.forbidden, Refusal.noRole(user: principal.user).description)
        }
        return try store.agents()
    }

    func audit(_ query: AuditQuery) async throws -> [AuditEntry] { try store.audit(query) }
    func readiness() async -> [String: Bool] { await readinessChecks() }

    func role() async -> String { leadership.leads ? "leader" : "standby" }

    func cluster() async throws -> API.Cluster {
        let state = try store.leaseState()
        let live = state.expiresIn > 0
        return API.Cluster(
            this: memberID, role: await role(), leader: live ? state.leader.map(Leadership.memberID(ofHolder:)) : nil, epoch: state.epoch,
            leaseAge: state.age,
            leaseExpiresIn: state.expiresIn, members: try store.members(within: 3 * leaseSeconds))
    }
    func metricsText() async -> String { exposition() }
}
