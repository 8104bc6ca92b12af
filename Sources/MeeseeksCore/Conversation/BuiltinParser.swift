/// Recognises the built-ins of SPEC §5 in a typed request.
enum BuiltinParser {
    static let help: [DialogView.CommandEntry] = [
        .init(name: "help", summary: "What you can ask of me"),
        .init(name: "jobs", summary: "Your recent jobs"),
        .init(name: "job ID", summary: "One job's details"),
        .init(name: "last", summary: "Your last job"),
        .init(name: "logs ID", summary: "A job's whole output"),
        .init(name: "tail ID", summary: "The end of a job's output"),
        .init(name: "cancel ID", summary: "Cancel one of your jobs"),
        .init(name: "agents", summary: "The agents, their labels and state"),
        .init(name: "audit", summary: "The audit trail (admin)"),
        .init(name: "kill ID", summary: "Cancel anyone's job (admin)"),
    ]

    static let adminOnly: Set<String> = ["audit", "kill ID"]

    /// Built-ins that show what others run: the fleet. They need a role, as commands do.
    static let roleOnly: Set<String> = ["agents"]

    /// nil when `request` is not a built-in; `.success(nil)` for help. `hasRole`: whether the user
    /// holds any role in the policy (default deny covers the fleet view too).
    static func parse(_ request: TypedRequest, user: String, isAdmin: Bool, hasRole: Bool) -> Result<Builtin?, DialogView.Notice>? {
        let words = request.positional
        func id() -> Result<Int64, DialogView.Notice> {
            guard words.count == 1, let id = Int64(words[0].trimmingPrefix("#")), id > 0 else {
                return .failure(.init(.invalid, "'\(request.command)' takes a job number, such as '\(request.command) 42'"))
            }
            return .success(id)
        }
        func admin(_ call: Builtin) -> Result<Builtin?, DialogView.Notice> {
            isAdmin ? .success(call) : .failure(.init(.refused, Refusal.notAdmin(request.command).description))
        }
        switch request.command {
        case "help": return .success(nil)
        case "jobs": return .success(.jobs(user: user))
        case "last": return .success(.last(user: user))
        case "agents":
            return hasRole ? .success(.agents) : .failure(.init(.refused, Refusal.noRole(user: user).description))
        case "job": return id().map { .job($0) }
        case "logs": return id().map { .logs($0) }
        case "tail": return id().map { .tail($0) }
        case "cancel": return id().map { .cancel($0) }
        case "kill":
            switch id() {
            case .success(let id): return admin(.kill(id))
            case .failure(let notice): return .failure(notice)
            }
        case "audit":
            var query = AuditQuery()
            for pair in request.named {
                switch pair.name {
                case "user": query.user = pair.value
                case "command": query.command = pair.value
                case "outcome": query.outcome = pair.value
                default: return .failure(.init(.invalid, "audit filters are user=, command= and outcome="))
                }
            }
            for word in words {
                let parts = word.split(separator: "=", maxSplits: 1).map(String.init)
                guard parts.count == 2 else { return .failure(.init(.invalid, "audit filters are user=, command= and outcome=")) }
                switch parts[0] {
                case "user": query.user = parts[1]
                case "command": query.command = parts[1]
                case "outcome": query.outcome = parts[1]
                default: return .failure(.init(.invalid, "audit filters are user=, command= and outcome="))
                }
            }
            return admin(.audit(query))
        default: return nil
        }
    }
}
