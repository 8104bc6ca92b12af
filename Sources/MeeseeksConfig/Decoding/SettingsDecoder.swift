/// Decodes `meeseeks.yaml`, the box's own settings.
enum SettingsDecoder {
    static func decode(_ node: YAMLNode, diagnostics: inout [Diagnostic]) -> BoxSettings {
        var settings = BoxSettings()
        if case .null = node.resolved { return settings }
        guard var reader = MappingReader(node, context: "meeseeks.yaml", diagnostics: &diagnostics) else {
            return settings
        }
        defer { diagnostics += reader.finish() }
        if let personaNode = reader.node("persona") {
            settings.persona = decodePersona(personaNode, diagnostics: &reader.diagnostics)
        }
        if let historyNode = reader.node("history"),
            var history = MappingReader(historyNode, context: "'history'", diagnostics: &reader.diagnostics)
        {
            settings.historyRetention = history.duration("retention") ?? settings.historyRetention
            reader.diagnostics += history.finish()
        }
        if let dialogsNode = reader.node("dialogs"),
            var dialogs = MappingReader(dialogsNode, context: "'dialogs'", diagnostics: &reader.diagnostics)
        {
            settings.dialogIdleTimeout = dialogs.duration("idle_timeout") ?? settings.dialogIdleTimeout
            reader.diagnostics += dialogs.finish()
        }
        if let agentsNode = reader.node("agents"),
            var agents = MappingReader(agentsNode, context: "'agents'", diagnostics: &reader.diagnostics)
        {
            settings.agentLostAfter = agents.duration("lost_after") ?? settings.agentLostAfter
            reader.diagnostics += agents.finish()
        }
        if let jobsNode = reader.node("jobs"),
            var jobs = MappingReader(jobsNode, context: "'jobs'", diagnostics: &reader.diagnostics)
        {
            if let limit = jobs.int("output_limit") {
                if limit < 1024 {
                    reader.diagnostics.append(
                        .error("bad-value", at: jobs.keyPosition("output_limit"), "'output_limit' must be at least 1024 bytes"))
                } else {
                    settings.outputLimit = limit
                }
            }
            reader.diagnostics += jobs.finish()
        }
        if let pathsNode = reader.node("paths"),
            var paths = MappingReader(pathsNode, context: "'paths'", diagnostics: &reader.diagnostics)
        {
            settings.paths.commands = paths.string("commands") ?? settings.paths.commands
            settings.paths.policies = paths.string("policies") ?? settings.paths.policies
            settings.paths.database = paths.string("database")
            settings.paths.twoFactorSecrets = paths.string("two_factor_secrets")
            reader.diagnostics += paths.finish()
        }
        return settings
    }

    private static func decodePersona(_ node: YAMLNode, diagnostics: inout [Diagnostic]) -> Persona {
        guard var reader = MappingReader(node, context: "'persona'", diagnostics: &diagnostics) else {
            return .mrMeeseeks
        }
        defer { diagnostics += reader.finish() }
        var persona = Persona(name: reader.string("name") ?? Persona.mrMeeseeks.name, phrases: [:])
        for moment in Persona.Moment.allCases {
            if let phrases = reader.strings(moment.rawValue, single: true) {
                persona.phrases[moment] = phrases.map(\.0).filter { !$0.isEmpty }
            }
        }
        return persona
    }
}
