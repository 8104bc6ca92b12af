public import MeeseeksConfig

/// Exactly what an agent runs for one job: the argv (or script) with arguments filled in, and the
/// environment variables the job adds. Built by the box, carried to the agent unchanged.
public struct ExecutionPlan: Hashable, Sendable, Codable {
    public var jobID: Int64
    public var attempt: Int
    public var command: String
    /// The program and its arguments, each `{{arg}}` filled into its own element; empty for a script.
    public var argv: [String]
    /// An inline script with a shebang, written to a private file and run directly.
    public var script: String?
    /// `MEESEEKS_ARG_<NAME>`, `MEESEEKS_JOB_ID`, `MEESEEKS_USER`, `MEESEEKS_COMMAND`.
    public var environment: [String: String]
    public var timeout: Int
    public var user: String
    public var twoFactor: Bool
    /// The user's TOTP code for the agent to verify; never stored.
    public var twoFactorCode: String?
    /// Bytes of output kept; the agent drops the rest (and says so) rather than send it.
    public var outputLimit: Int
    /// The epoch of the leader that sent it (0 for a box without leader election).
    public var epoch: UInt64 = 0
    /// A command the agent defines itself: only `arguments` travel (argv, script and the
    /// environment are the agent's to build).
    public var agentOwned = false
    public var arguments: [String: String] = [:]

    public init(
        jobID: Int64, attempt: Int, command: String, argv: [String], script: String?, environment: [String: String],
        timeout: Int, user: String, twoFactor: Bool = false, twoFactorCode: String? = nil,
        outputLimit: Int = ExecutionPlan.defaultOutputLimit
    ) {
        self.outputLimit = outputLimit
        self.jobID = jobID
        self.attempt = attempt
        self.command = command
        self.argv = argv
        self.script = script
        self.environment = environment
        self.timeout = timeout
        self.user = user
        self.twoFactor = twoFactor
        self.twoFactorCode = twoFactorCode
    }

    /// `jobs.output_limit`'s default, also what an agent applies when the box names none.
    public static let defaultOutputLimit = 1 << 20

    /// The plan for running `spec` with `arguments` (real values) as job `jobID`.
    public init(spec: CommandSpec, arguments: [String: String], jobID: Int64, attempt: Int, user: String, twoFactorCode: String? = nil) {
        var environment: [String: String] = [
            "MEESEEKS_JOB_ID": String(jobID), "MEESEEKS_USER": user, "MEESEEKS_COMMAND": spec.name,
        ]
        var values: [String: String] = [:]
        for argument in spec.arguments {
            let value = arguments[argument.name] ?? argument.defaultValue ?? ""
            values[argument.name] = value
            environment["MEESEEKS_ARG_\(argument.name.uppercased())"] = value
        }
        var argv: [String] = []
        var script: String?
        var owned = false
        switch spec.action {
        case .run(let templates): argv = templates.map { $0.render(values) }
        case .script(let text): script = text
        case .onAgent: owned = true
        }
        self.init(
            jobID: jobID, attempt: attempt, command: spec.name, argv: argv, script: script, environment: owned ? [:] : environment,
            timeout: spec.timeout, user: user, twoFactor: spec.twoFactor, twoFactorCode: twoFactorCode)
        if owned {
            agentOwned = true
            self.arguments = values
        }
    }
}
