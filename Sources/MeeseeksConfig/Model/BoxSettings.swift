/// Settings of the box from the optional `meeseeks.yaml`.
public struct BoxSettings: Hashable, Sendable {
    public var persona: Persona
    /// Seconds of job history, dialogs and audit kept before purging.
    public var historyRetention: Int
    /// Seconds a dialog may sit idle before it expires.
    public var dialogIdleTimeout: Int
    /// Seconds an agent may be gone (its connection closed, or silent) before its running jobs are
    /// lost; its heartbeat interval and TCP keepalive derive from it.
    public var agentLostAfter: Int
    /// Bytes of output kept per job; the rest is cut with a marker.
    public var outputLimit: Int
    /// Directories and files, relative to the configuration directory.
    public var paths: Paths
    /// Presets: a name that stands for a typed request with some arguments fixed
    /// (`deploy-prod: "deploy env=prd"`); the user is asked for the rest.
    public var presets: [String: String] = [:]
    /// Where each preset was written, for diagnostics.
    public var presetPositions: [String: SourcePosition] = [:]

    public struct Paths: Hashable, Sendable {
        public var commands: String = "commands.d"
        public var policies: String = "policies.d"
        public var database: String?
        public var twoFactorSecrets: String?

        public init() {}
    }

    public init(
        persona: Persona = .mrMeeseeks, historyRetention: Int = 90 * 86_400, dialogIdleTimeout: Int = 900,
        agentLostAfter: Int = 15, outputLimit: Int = 1 << 20, paths: Paths = Paths()
    ) {
        self.persona = persona
        self.historyRetention = historyRetention
        self.dialogIdleTimeout = dialogIdleTimeout
        self.agentLostAfter = agentLostAfter
        self.outputLimit = outputLimit
        self.paths = paths
    }
}

/// What the box says, several phrases per moment, one picked at random.
public struct Persona: Hashable, Sendable {
    public enum Moment: String, Hashable, Sendable, CaseIterable {
        case greeting, accepted, done, failed, refused, cancelled, confirm
    }

    public var name: String
    public var phrases: [Moment: [String]]

    public init(name: String, phrases: [Moment: [String]]) {
        self.name = name
        self.phrases = phrases
    }

    /// The phrases for a moment, falling back to Mr Meeseeks' own.
    public func phrases(for moment: Moment) -> [String] {
        if let own = phrases[moment], !own.isEmpty { return own }
        return Persona.mrMeeseeks.phrases[moment] ?? [""]
    }

    public static let mrMeeseeks = Persona(
        name: "Mr Meeseeks",
        phrases: [
            .greeting: ["I'm Mr Meeseeks! Look at me!", "Hi! I'm Mr Meeseeks! Look at me!", "Ooh, I'm Mr Meeseeks! Look at me!"],
            .accepted: ["Uuuuh, yeah! Can do!", "Ooh, yeah! Can do!", "Yes siree! Can do!"],
            .done: ["All done!", "All done! Ooh-wee!", "All done! *poof*"],
            .failed: ["Ooh, that didn't go well.", "Uh-oh, the Meeseek failed.", "Existence is pain, and so was that job."],
            .refused: ["Ooh, I can't do that.", "Ooh-wee, no can do."],
            .cancelled: ["Okay, never mind!", "Alright, forget it!"],
            .confirm: ["Are you sure?", "Are you sure? Ooh, it's a big one."],
        ])
}
