public import GRPCCore
public import MeeseeksConfig
import MeeseeksLabels

// An agent's own commands on the wire: what the box needs to offer and check them, never how
// they run (the digest stands for that).

extension Meeseeks_Agent_V1_CommandDefinition {
    /// The wire form of an agent's command; `digest` covers the whole definition, action included.
    public init(_ spec: CommandSpec, digest: String) {
        self.init()
        name = spec.name
        summary = spec.summary
        description_p = spec.description ?? ""
        arguments = spec.arguments.map(Meeseeks_Agent_V1_ArgumentDefinition.init)
        switch spec.confirm {
        case .never: confirm = "never"
        case .always: confirm = "always"
        case .template(let template):
            confirm = "template"
            confirmText = template.source
        }
        twoFactor = spec.twoFactor
        timeoutSeconds = Int32(clamping: spec.timeout)
        mode = spec.mode.rawValue
        destructive = spec.destructive
        selector = spec.selector.description
        aliases = spec.aliases
        self.digest = digest
    }

    /// The command as the box offers it (its action `.onAgent`), or why it cannot be taken.
    public func spec() throws(RPCError) -> CommandSpec {
        func refuse(_ why: String) -> RPCError {
            RPCError(code: .invalidArgument, message: "command definition refused: \(why)")
        }
        guard digest.utf8.count == 64, digest.allSatisfy(\.isHexDigit) else {
            throw refuse("'\(name.prefix(64))' needs a SHA-256 digest in hex")
        }
        guard let mode = CommandSpec.TargetMode(rawValue: mode.isEmpty ? "one" : mode) else {
            throw refuse("'\(name.prefix(64))': target mode must be one or all")
        }
        let confirm: CommandSpec.Confirm
        switch self.confirm {
        case "", "never": confirm = .never
        case "always": confirm = .always
        case "template": confirm = .template(Template(confirmText))
        default: throw refuse("'\(name.prefix(64))': confirm must be never, always or template")
        }
        let selector: LabelSelector
        do {
            selector = self.selector.isEmpty ? .everything : try LabelSelector(self.selector)
        } catch {
            throw refuse("'\(name.prefix(64))': selector: \(error)")
        }
        var spec = CommandSpec(
            name: name, summary: summary, description: description_p.isEmpty ? nil : description_p, action: .onAgent,
            arguments: try arguments.map { argument throws(RPCError) in try argument.spec() }, confirm: confirm,
            twoFactor: twoFactor, timeout: timeoutSeconds == 0 ? CommandSpec.defaultTimeout : Int(timeoutSeconds), selector: selector,
            mode: mode, destructive: destructive)
        spec.aliases = aliases
        if let problem = DefinitionRules.problem(spec) { throw refuse(problem) }
        return spec
    }
}

extension Meeseeks_Agent_V1_ArgumentDefinition {
    init(_ spec: ArgumentSpec) {
        self.init()
        name = spec.name
        prompt = spec.prompt
        type = spec.kind.rawValue
        choices = spec.choices
        pattern = spec.pattern ?? ""
        if let min = spec.min {
            hasMin_p = true
            self.min = Int64(min)
        }
        if let max = spec.max {
            hasMax_p = true
            self.max = Int64(max)
        }
        required = spec.required
        if let value = spec.defaultValue {
            hasDefault_p = true
            self.default = value
        }
        secret = spec.secret
    }

    func spec() throws(RPCError) -> ArgumentSpec {
        guard let kind = ArgumentSpec.Kind(rawValue: type.isEmpty ? "text" : type) else {
            throw RPCError(code: .invalidArgument, message: "command definition refused: argument '\(name.prefix(64))' has an unknown type")
        }
        return ArgumentSpec(
            name: name, prompt: prompt.isEmpty ? nil : prompt, kind: kind, choices: choices, pattern: pattern.isEmpty ? nil : pattern,
            min: hasMin_p ? Int(min) : nil, max: hasMax_p ? Int(max) : nil, required: required,
            defaultValue: hasDefault_p ? self.default : nil, secret: secret)
    }
}
