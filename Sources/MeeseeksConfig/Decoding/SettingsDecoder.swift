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
        reader.section("history") { settings.historyRetention = $0.duration("retention") ?? settings.historyRetention }
        reader.section("dialogs") { settings.dialogIdleTimeout = $0.duration("idle_timeout") ?? settings.dialogIdleTimeout }
        reader.section("agents") { settings.agentLostAfter = $0.duration("lost_after") ?? settings.agentLostAfter }
        reader.section("jobs") { jobs in
            guard let limit = jobs.int("output_limit") else { return }
            if limit < 1024 {
                jobs.diagnostics.append(
                    .error("bad-value", at: jobs.keyPosition("output_limit"), "'output_limit' must be at least 1024 bytes"))
            } else {
                settings.outputLimit = limit
            }
        }
        if let presets = reader.node("aliases") {
            decodePresets(presets, into: &settings, diagnostics: &reader.diagnostics)
        }
        reader.section("paths") { paths in
            settings.paths.commands = paths.string("commands") ?? settings.paths.commands
            settings.paths.policies = paths.string("policies") ?? settings.paths.policies
            settings.paths.database = paths.string("database")
            settings.paths.twoFactorSecrets = paths.string("two_factor_secrets")
        }
        return settings
    }

    /// `aliases: {deploy-prod: "deploy env=prd"}`: each a name and the typed request it stands for.
    private static func decodePresets(_ node: YAMLNode, into settings: inout BoxSettings, diagnostics: inout [Diagnostic]) {
        guard case .mapping(let pairs) = node.kind else {
            diagnostics.append(
                .error(
                    "wrong-type", at: node.position,
                    "'aliases' must be a mapping of names to requests, such as deploy-prod: \"deploy env=prd\""))
            return
        }
        for pair in pairs {
            guard let name = pair.key.scalarText, let request = pair.value.scalarText, !request.trimmingSpaces.isEmpty else {
                diagnostics.append(
                    .error(
                        "wrong-type", at: pair.value.position, "an alias stands for a request written as text, such as \"deploy env=prd\""))
                continue
            }
            settings.presets[name] = request
            settings.presetPositions[name] = pair.key.position
        }
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
