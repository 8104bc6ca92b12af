import Crypto
public import MeeseeksConfig
public import MeeseeksCore
import MeeseeksGRPC

/// The commands this agent defines itself (`mrmeeseeks --config DIR`): what it tells the box
/// (definitions and digests), and how it turns a job the box sends for one of them into what
/// runs, from its own definition only.
public struct OwnCommands: Sendable {
    public let commands: [String: CommandSpec]

    public init(_ commands: [CommandSpec] = []) {
        var byName: [String: CommandSpec] = [:]
        for command in commands where byName[command.name] == nil { byName[command.name] = command }
        self.commands = byName
    }

    public var isEmpty: Bool { commands.isEmpty }

    /// Loads `directory/commands.d` with the box's parser and lint; nil and the diagnostics when
    /// there are errors.
    public static func load(directory: String) -> (commands: OwnCommands?, diagnostics: [Diagnostic]) {
        let result = ConfigLoader.loadCommands(directory: directory)
        return (result.configuration.map { OwnCommands($0.commands) }, result.diagnostics)
    }

    /// SHA-256 of the whole definition, how it runs included.
    static func digest(_ spec: CommandSpec) -> String {
        SHA256.hash(data: Array(spec.canonicalText.utf8)).map { byte in
            let hex = String(byte, radix: 16)
            return byte < 16 ? "0" + hex : hex
        }.joined()
    }

    /// What the box is told: every definition, by name.
    var definitions: [Meeseeks_Agent_V1_CommandDefinition] {
        commands.keys.sorted().compactMap { name in commands[name].map { .init($0, digest: Self.digest($0)) } }
    }

    /// Why the agent will not run `plan`, as a code and a sentence.
    public struct Refusal: Error, Equatable {
        public var code: String
        public var reason: String
    }

    /// The plan to run for a job the box sent for one of these commands: the argument values
    /// are checked against this agent's definition (unknown, missing or invalid ones refuse the
    /// job) and argv, script and environment are built here. The box's only other say is who
    /// asked, the 2FA code, the output limit and the epoch.
    public func plan(for job: ExecutionPlan, agentID: String) throws(Refusal) -> ExecutionPlan {
        guard let spec = commands[job.command] else {
            throw Refusal(code: "invalid", reason: "agent \(agentID) defines no command '\(job.command)'")
        }
        guard job.agentOwned else {
            throw Refusal(
                code: "invalid",
                reason:
                    "'\(job.command)' is agent \(agentID)'s own command: it builds what runs itself and refuses a job that brings argv or a script"
            )
        }
        guard job.argv.isEmpty, job.script == nil else {
            throw Refusal(
                code: "invalid", reason: "a job for agent \(agentID)'s own command '\(job.command)' must not bring argv or a script")
        }
        let allowedEnvironment: Set<String> = ["MEESEEKS_AGENT_ID", "MEESEEKS_EPOCH"]
        if let extra = job.environment.keys.sorted().first(where: { !allowedEnvironment.contains($0) }) {
            throw Refusal(
                code: "invalid",
                reason: "a job for '\(job.command)' must not set \(extra.prefix(64)): agent \(agentID) builds the environment")
        }
        if let unknown = job.arguments.keys.sorted().first(where: { spec.argument(named: $0) == nil }) {
            throw Refusal(code: "invalid", reason: "'\(job.command)' has no argument '\(unknown.prefix(64))'")
        }
        var values: [String: String] = [:]
        for argument in spec.arguments {
            guard var value = job.arguments[argument.name] ?? argument.defaultValue else {
                if argument.required { throw Refusal(code: "invalid", reason: "'\(job.command)' needs a value for '\(argument.name)'") }
                continue
            }
            // An optional argument left empty stays empty, as on the box.
            if let problem = ArgumentValidation.problem(value, for: argument), argument.required || !value.isEmpty {
                throw Refusal(code: "invalid", reason: "'\(job.command)', argument '\(argument.name)': \(problem)")
            }
            if argument.kind == .bool, let normalized = ArgumentValidation.normalizedBool(value) { value = normalized }
            values[argument.name] = value
        }
        var plan = ExecutionPlan(
            spec: spec, arguments: values, jobID: job.jobID, attempt: job.attempt, user: job.user, twoFactorCode: job.twoFactorCode)
        // A code is needed if either side says so.
        plan.twoFactor = spec.twoFactor || job.twoFactor
        plan.outputLimit = job.outputLimit
        plan.epoch = job.epoch
        plan.environment["MEESEEKS_AGENT_ID"] = agentID
        if job.epoch > 0 { plan.environment["MEESEEKS_EPOCH"] = String(job.epoch) }
        return plan
    }
}
