import Logging
import MeeseeksAPI
import MeeseeksConfig
import MeeseeksCore
import MeeseeksHTTP
import MeeseeksLabels

extension Orchestrator {
    /// A job requested directly through the API (`meeseeks run`): the same checks as a dialog,
    /// with no confirmation (the caller asked explicitly) but the 2FA code when the command needs one.
    func run(_ asked: API.RunRequest, as user: String, impersonatedBy: String? = nil, origin: String? = nil) throws(API.Failure) -> Job {
        let snapshot = config.snapshot
        // An alias or a preset stands for its command (a preset with some arguments fixed).
        let expanded = AliasExpansion.expand(
            command: asked.command, positional: asked.positional,
            named: asked.arguments.sorted { $0.key < $1.key }.map { ($0.key, $0.value) },
            in: snapshot.configuration)
        let request = API.RunRequest(command: expanded.command, selector: asked.selector, code: asked.code)
        guard let spec = snapshot.configuration.command(named: request.command) else {
            let refusal = Refusal.unknownCommand(request.command)
            audit.record(
                AuditRecord(action: .commandRequested, user: user, command: request.command, outcome: "denied", reason: refusal.reason))
            throw API.Failure(.notFound, refusal.description)
        }
        var answers: [String: String] = [:]
        if let problem = ArgumentBinding.bind(spec, positional: expanded.positional, named: expanded.named, into: &answers) {
            audit.record(
                AuditRecord(
                    action: .commandRequested, user: user, command: spec.name, outcome: "invalid", reason: "invalid_argument",
                    detail: problem))
            throw API.Failure(.badRequest, problem)
        }
        let arguments: [String: String]
        switch ArgumentBinding.completed(spec, answers) {
        case .failure(let problem): throw API.Failure(.badRequest, problem.description)
        case .success(let complete): arguments = complete
        }
        let selector: LabelSelector
        do {
            selector = try LabelSelector(request.selector ?? "")
        } catch {
            throw API.Failure(.badRequest, "invalid selector '\(request.selector ?? "")': \(error)")
        }
        if spec.approval != nil, let impersonatedBy {
            audit.record(
                AuditRecord(
                    action: .commandRequested, user: user, command: spec.name, outcome: "denied", reason: "impersonated",
                    detail: "by \(impersonatedBy)"))
            throw API.Failure(.forbidden, Self.impersonatedApproval(spec.name))
        }
        if spec.twoFactor, spec.approval != nil {
            // The code must be fresh when the job starts, after its approvers: a conversation asks for it then.
            throw API.Failure(
                .badRequest,
                "'\(spec.name)' needs approval and then your 2FA code: request it in Slack or with meeseeks chat, which asks for the code once it is approved"
            )
        }
        if spec.twoFactor, request.code == nil {
            throw API.Failure(.badRequest, "'\(spec.name)' needs a 2FA code: pass --code")
        }
        // One agent will run a `mode: one` job: the audit names a few of the candidates, and the
        // search stops there instead of walking a fleet of thousands on every request.
        let decision = snapshot.engine.authorize(
            user: user, command: spec, requestSelector: selector, agents: registry.fleet,
            targetLimit: spec.mode == .all ? .max : AgentNames.named + 1)
        switch decision {
        case .refused(let refusal):
            audit.record(
                AuditRecord(
                    action: .policyDenied, user: user, command: spec.name, outcome: "denied", reason: refusal.reason,
                    detail: refusal.description))
            throw API.Failure(.forbidden, refusal.description)
        case .allowed(let targets, _):
            audit.record(
                AuditRecord(
                    action: .policyAllowed, user: user, command: spec.name, outcome: "allowed",
                    detail:
                        "api; \(spec.mode == .all ? "\(targets.count) targets:" : "targets") \(AgentNames.abbreviated(targets.map(\.id)))"))
            do {
                return try submit(
                    JobRequest(
                        command: spec.name, arguments: arguments, requester: user, selector: selector,
                        targets: spec.mode == .all ? targets.map(\.id) : [], mode: spec.mode, twoFactorCode: request.code,
                        origin: origin))
            } catch {
                // The store's own words (SQLite's error numbers) are for the log, not the caller.
                logger.error("a job could not be stored", metadata: ["command": "\(spec.name)", "user": "\(user)", "error": "\(error)"])
                throw API.Failure(.unavailable, "the box cannot write to its database right now, so the job was not stored; try again")
            }
        }
    }
}
