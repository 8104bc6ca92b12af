import MeeseeksConfig
import MeeseeksCore
import MeeseeksHTTP
import MeeseeksLabels

extension Box {
    /// A job requested directly through the API (`meeseeks run`): the same checks as a dialog,
    /// with no confirmation (the caller asked explicitly) but the 2FA code when the command needs one.
    func run(_ request: API.RunRequest, as user: String) throws(API.Failure) -> Job {
        let snapshot = config.snapshot
        guard let spec = snapshot.configuration.command(named: request.command) else {
            audit("command.requested", user, request.command, "denied", Refusal.unknownCommand(request.command).reason)
            throw API.Failure(.notFound, Refusal.unknownCommand(request.command).description)
        }
        var arguments: [String: String] = [:]
        if request.positional.count > spec.arguments.count {
            throw API.Failure(.badRequest, "too many arguments for '\(spec.name)' (it takes \(spec.arguments.map(\.name).joined(separator: ", ")))")
        }
        for (argument, value) in zip(spec.arguments, request.positional) { arguments[argument.name] = value }
        for (name, value) in request.arguments {
            guard spec.argument(named: name) != nil else { throw API.Failure(.badRequest, "'\(spec.name)' has no argument '\(name)'") }
            if arguments[name] != nil { throw API.Failure(.badRequest, "'\(name)' is given twice") }
            arguments[name] = value
        }
        for argument in spec.arguments {
            if let value = arguments[argument.name] {
                if let problem = ArgumentValidation.problem(value, for: argument) {
                    throw API.Failure(.badRequest, "\(argument.name): \(problem)")
                }
                if argument.kind == .bool { arguments[argument.name] = ArgumentValidation.normalizedBool(value) }
            } else if let value = argument.defaultValue {
                arguments[argument.name] = value
            } else if argument.required {
                throw API.Failure(.badRequest, "\(argument.name) is required: \(argument.prompt)")
            } else {
                arguments[argument.name] = ""
            }
        }
        let selector: LabelSelector
        do {
            selector = try LabelSelector(request.selector ?? "")
        } catch {
            throw API.Failure(.badRequest, "invalid selector '\(request.selector ?? "")': \(error)")
        }
        if spec.twoFactor, request.code == nil {
            throw API.Failure(.badRequest, "'\(spec.name)' needs a 2FA code: pass --code")
        }
        switch snapshot.engine.authorize(user: user, command: spec, requestSelector: selector, agents: connectedAgents()) {
        case .refused(let refusal):
            audit("policy.denied", user, spec.name, "denied", refusal.reason, detail: refusal.description)
            throw API.Failure(.forbidden, refusal.description)
        case .allowed(let targets, _):
            audit("policy.allowed", user, spec.name, "allowed", nil, detail: "api; targets \(targets.map(\.id).joined(separator: ","))")
            do {
                return try submit(
                    JobRequest(
                        command: spec.name, arguments: arguments, requester: user, selector: selector,
                        targets: targets.map(\.id), mode: spec.mode, twoFactorCode: request.code))
            } catch {
                throw API.Failure(.unavailable, "the job could not be stored: \(error)")
            }
        }
    }

    func audit(_ action: String, _ user: String, _ command: String?, _ outcome: String, _ reason: String?, detail: String? = nil) {
        record(AuditRecord(action: action, user: user, command: command, outcome: outcome, reason: reason, detail: detail))
    }
}
