import Crypto
import Foundation
public import MeeseeksAPI
import MeeseeksConfig
public import MeeseeksCore
public import MeeseeksHTTP
import MeeseeksLabels

/// The box as the HTTP API sees it: authentication, dialogs over the mailbox, direct runs, jobs.
public struct BoxAPI: APIService {
    let box: Orchestrator
    let mailbox: APIMailbox
    /// `MEESEEKS_API_TOKEN` of the box: an admin credential that may act as any user.
    let bootstrapToken: String?
    let reloader: ConfigReloader
    let readinessChecks: @Sendable () async -> [String: Bool]
    let exposition: @Sendable () -> String
    /// Agents expected back after a start: requests that need them wait (a cluster's leader
    /// waits before it takes a request at all, so it passes none).
    let agentsBack: ReturningAgents?

    /// The identity of the bootstrap token when it acts as itself.
    public static let bootstrapUser = "api"

    init(
        box: Orchestrator, mailbox: APIMailbox, bootstrapToken: String?, reloader: ConfigReloader,
        readiness: @escaping @Sendable () async -> [String: Bool], exposition: @escaping @Sendable () -> String,
        agentsBack: ReturningAgents? = nil
    ) {
        self.agentsBack = agentsBack
        self.box = box
        self.mailbox = mailbox
        self.bootstrapToken = bootstrapToken.flatMap { $0.isEmpty ? nil : $0 }
        self.reloader = reloader
        self.readinessChecks = readiness
        self.exposition = exposition
    }

    /// The stored form of a token: SHA-256, hex.
    public static func hash(token: String) -> String {
        Hex.encode(SHA256.hash(data: Array(token.utf8)))
    }

    public func authenticate(token: String) async -> API.Principal? {
        if let bootstrapToken, ConstantTime.equals(token, bootstrapToken) {
            return API.Principal(user: Self.bootstrapUser, isAdmin: true, mayActAsOthers: true)
        }
        let stored: APIToken?
        do {
            stored = try box.store.token(hash: Self.hash(token: token))
        } catch {
            // Fail closed: a token that cannot be checked opens nothing.
            return nil
        }
        guard let stored, !stored.revoked else { return nil }
        let isAdmin = box.config.snapshot.engine.isAdmin(stored.user)
        return API.Principal(user: stored.user, isAdmin: isAdmin, mayActAsOthers: isAdmin)
    }

    public func isAdmin(_ user: String) async -> Bool {
        box.config.snapshot.engine.isAdmin(user)
    }

    public func impersonated(by principal: API.Principal, as other: String, request: String) async {
        box.audit.record(AuditRecord(action: .apiActedAs, user: principal.user, outcome: "ok", detail: "as \(other): \(request)"))
    }

    // MARK: Dialogs

    public func openDialog(_ request: API.OpenDialog, as user: String) async throws -> API.DialogState {
        try await openDialog(request, as: user, id: "api-" + UUID().uuidString.lowercased())
    }

    /// Opens a dialog under an id chosen by the caller (a front door, for a request it passes on).
    func openDialog(_ request: API.OpenDialog, as user: String, id: String) async throws -> API.DialogState {
        await agentsBack?.wait()
        var transport = ["kind": "api"]
        // Who really asked, when a token acts as another user: such a dialog requests no command that needs approval.
        if let actedBy = request.actedBy { transport["acted_by"] = actedBy }
        let dialog = await box.openDialog(id: id, user: user, channel: request.channel, text: request.text, transport: transport)
        return state(dialog, after: 0)
    }

    public func send(_ input: DialogInput, to dialogID: String, as user: String) async throws -> API.DialogState {
        let before = mailbox.messages(of: dialogID, after: 0).last?.seq ?? 0
        guard let dialog = try ownDialog(dialogID, of: user) else {
            throw API.Failure(.notFound, "there is no dialog \(dialogID) of yours")
        }
        guard input.event.isUserEvent else { throw API.Failure(.badRequest, "only user events may be sent") }
        let updated = await box.handle(dialogID, input) ?? dialog
        return state(updated, after: before)
    }

    public func messages(of dialogID: String, as user: String, after seq: Int, wait: Double) async throws -> API.DialogState {
        guard var dialog = try ownDialog(dialogID, of: user) else {
            throw API.Failure(.notFound, "there is no dialog \(dialogID) of yours")
        }
        let deadline = ContinuousClock.now + .milliseconds(Int64(wait * 1000))
        while mailbox.messages(of: dialogID, after: seq).isEmpty, ContinuousClock.now < deadline, !Task.isCancelled {
            let version = mailbox.changes.version(of: dialogID)
            if !mailbox.messages(of: dialogID, after: seq).isEmpty { break }
            let left = deadline - ContinuousClock.now
            await mailbox.changes.wait(
                for: dialogID, after: version, timeout: Double(left.components.seconds) + Double(left.components.attoseconds) / 1e18)
        }
        dialog = try ownDialog(dialogID, of: user) ?? dialog
        return state(dialog, after: seq)
    }

    /// The dialog, when it belongs to `user`; a store failure is a 503, not "not found".
    private func ownDialog(_ id: String, of user: String) throws -> Dialog? {
        let dialog: Dialog?
        do {
            dialog = try box.store.dialog(id)
        } catch {
            throw API.Failure(.unavailable, "the box's store failed; try again")
        }
        return dialog?.user == user ? dialog : nil
    }

    func state(_ dialog: Dialog, after seq: Int) -> API.DialogState {
        API.DialogState(
            id: dialog.id, user: dialog.user, finished: dialog.phase == .finished, jobID: dialog.jobID,
            messages: mailbox.messages(of: dialog.id, after: seq))
    }

    // MARK: Jobs

    public func run(_ request: API.RunRequest, as principal: API.Principal) async throws -> Job {
        await agentsBack?.wait()
        return try await box.run(request, as: principal.user, impersonatedBy: principal.impersonatedBy)
    }

    /// A run passed on by a front door: `origin` makes a repeated request one job.
    func run(_ request: API.RunRequest, as principal: API.Principal, origin: String) async throws -> Job {
        try await box.run(request, as: principal.user, impersonatedBy: principal.impersonatedBy, origin: origin)
    }

    public func jobs(of user: String?, limit: Int) async throws -> [Job] {
        try box.store.jobs(JobQuery(requester: user, topLevelOnly: true, limit: limit))
    }

    public func job(_ id: Int64, as principal: API.Principal) async throws -> API.JobDetail {
        let job = try visibleJob(id, principal)
        return API.JobDetail(job: job, children: try box.builtins.children(of: job))
    }

    public func output(of id: Int64, from offset: Int, wait: Double, as principal: API.Principal) async throws -> (bytes: [UInt8], job: Job)
    {
        var job = try visibleJob(id, principal)
        let deadline = Date().addingTimeInterval(wait)
        while true {
            let version = box.jobChanges.version(of: id)
            let bytes = try box.store.output(id, from: offset, limit: 1 << 20)
            job = try box.store.job(id) ?? job
            if !bytes.isEmpty || job.status.isFinal || Date() >= deadline { return (bytes, job) }
            await box.jobChanges.wait(for: id, after: version, timeout: deadline.timeIntervalSinceNow)
        }
    }

    public func cancel(_ id: Int64, as principal: API.Principal) async throws -> Job {
        do {
            return try await box.cancel(id, by: principal.user, asAdmin: principal.isAdmin)
        } catch {
            switch error {
            case .notFound: throw API.Failure(.notFound, error.description)
            case .notYours: throw API.Failure(.forbidden, error.description)
            case .alreadyEnded: throw API.Failure(.conflict, error.description)
            }
        }
    }

    /// A job the principal may see: their own, or any for admins. Others' jobs look absent.
    func visibleJob(_ id: Int64, _ principal: API.Principal) throws -> Job {
        guard let job = try box.store.job(id), job.requester == principal.user || principal.isAdmin else {
            throw API.Failure(.notFound, "there is no job #\(id) of yours")
        }
        return job
    }

    public func agents(as principal: API.Principal) async throws -> [AgentRecord] {
        guard principal.isAdmin || !box.config.snapshot.engine.roles(of: principal.user).isEmpty else {
            box.audit.record(
                AuditRecord(
                    action: .builtinDenied, user: principal.user, command: "agents", outcome: "denied", reason: "no_role", detail: "api"))
            throw API.Failure(.forbidden, Refusal.noRole(user: principal.user).description)
        }
        return await box.agentRecords()
    }

    public func audit(_ query: AuditQuery) async throws -> [AuditEntry] { try box.store.audit(query) }

    public func readiness() async -> [String: Bool] { await readinessChecks() }

    /// A box alone always leads.
    public func role() async -> String { "leader" }

    /// A box alone is a cluster of one, without a lease.
    public func cluster() async throws -> API.Cluster {
        let this = ProcessInfo.processInfo.hostName
        return API.Cluster(
            this: this, role: "leader", leader: this, epoch: 0, leaseAge: nil, leaseExpiresIn: nil,
            members: [ClusterMember(id: this, grpcAddress: "", httpAddress: "", version: BuildVersion.current)])
    }

    public func reload() async -> (applied: Bool, diagnostics: [String]) {
        let outcome = await reloader.reload(reason: "api")
        return (outcome.applied, outcome.diagnostics.map(\.description))
    }

    public func metricsText() async -> String { exposition() }
}

extension DialogEvent {
    /// Events a client may send; the others come from the box itself.
    var isUserEvent: Bool {
        switch self {
        case .picked, .answered, .skipped, .confirmed, .codeEntered, .cancelled: true
        default: false
        }
    }
}
