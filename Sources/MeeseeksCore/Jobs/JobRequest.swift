public import MeeseeksConfig
public import MeeseeksLabels

/// A request the policy allowed, ready to be stored as one job (or a broadcast of sub-jobs).
public struct JobRequest: Hashable, Sendable {
    public var command: String
    /// Real values, secrets included: the secrets are stored only sealed (`secrets(for:)`).
    public var arguments: [String: String]
    public var requester: String
    public var channel: String?
    public var selector: LabelSelector
    /// For `mode: all`, the agents to run on; for `mode: one`, the candidates when it was allowed.
    public var targets: [String]
    public var mode: CommandSpec.TargetMode
    public var dialogID: String?
    /// The TOTP code the user gave, forwarded to the agent that verifies it; stored only sealed.
    public var twoFactorCode: String?
    /// The front-door request it came from, stored uniquely with the job (`Job.origin`).
    public var origin: String?

    public init(
        command: String, arguments: [String: String], requester: String, channel: String? = nil,
        selector: LabelSelector = .everything, targets: [String] = [], mode: CommandSpec.TargetMode = .one,
        dialogID: String? = nil, twoFactorCode: String? = nil, origin: String? = nil
    ) {
        self.origin = origin
        self.command = command
        self.arguments = arguments
        self.requester = requester
        self.channel = channel
        self.selector = selector
        self.targets = targets
        self.mode = mode
        self.dialogID = dialogID
        self.twoFactorCode = twoFactorCode
    }

    /// What must be kept sealed with the job: the values of its secret arguments and the code.
    public func secrets(for spec: CommandSpec?) -> JobSecrets? {
        var values: [String: String] = [:]
        for argument in spec?.arguments ?? [] where argument.secret {
            if let value = arguments[argument.name] { values[argument.name] = value }
        }
        let secrets = JobSecrets(arguments: values, code: twoFactorCode)
        return secrets.isEmpty ? nil : secrets
    }

    /// Arguments as they may be shown and stored: secrets replaced by `maskedValue`.
    public func maskedArguments(for spec: CommandSpec?) -> [String: String] {
        var masked = arguments
        for argument in spec?.arguments ?? [] where argument.secret && masked[argument.name] != nil {
            masked[argument.name] = maskedValue
        }
        return masked
    }
}
