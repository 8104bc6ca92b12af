import MeeseeksConfig
import MeeseeksCore
import Testing

@Suite("Aliases and presets expand once, then go through the command's own checks")
struct AliasTests {
    typealias F = ConversationFixture

    func world() -> World {
        var restart = F.restart
        restart.aliases = ["rs"]
        var settings = BoxSettings()
        settings.presets = ["restart-nginx": "restart nginx", "greet-rick": "hello who=Rick"]
        let configuration = Configuration(commands: [F.hello, restart], policy: PolicyFixture.policy, settings: settings)
        return World(
            configuration: configuration, engine: PolicyEngine(policy: PolicyFixture.policy), agents: PolicyFixture.agents, now: 1000)
    }

    @Test(
        "expansion of typed text",
        arguments: [
            ("rs nginx", "restart nginx"), ("restart-nginx reason=\"disk full\"", "restart nginx reason=\"disk full\""),
            ("greet-rick", "hello who=Rick"), ("help", "help"), ("hello world", "hello world"), ("rsx", "rsx"),
        ])
    func expansion(typed: String, expanded: String) {
        #expect(AliasExpansion.expand(typed, in: world().configuration) == expanded)
    }

    @Test("an alias opens the command's dialog, with its confirmation; a preset fixes its arguments")
    func dialogs() {
        var dialog = F.dialog()
        _ = Conversation.handle(&dialog, DialogInput(.opened(text: "rs redis")), in: world())
        #expect(dialog.command == "restart" && dialog.answers["service"] == "redis" && dialog.phase == .confirming)
        var preset = F.dialog()
        _ = Conversation.handle(&preset, DialogInput(.opened(text: "greet-rick")), in: world())
        #expect(preset.command == "hello" && preset.answers["who"] == "Rick")
        // A fixed value given again is refused, as any argument given twice.
        var twice = F.dialog()
        let effects = Conversation.handle(&twice, DialogInput(.opened(text: "greet-rick who=world")), in: world())
        #expect(effects.contains { if case .show(.notice(let notice)) = $0 { notice.text.contains("given twice") } else { false } })
    }

    @Test("the same policy applies: a dev may use hello's preset, not restart's alias")
    func policy() {
        var dev = F.dialog(user: "UDEV")
        let refused = Conversation.handle(&dev, DialogInput(.opened(text: "rs nginx")), in: world())
        #expect(refused.contains { if case .audit(let record) = $0 { record.action == .policyDenied } else { false } })
        var greet = F.dialog(user: "UDEV")
        _ = Conversation.handle(&greet, DialogInput(.opened(text: "greet-rick")), in: world())
        #expect(greet.command == "hello")
    }
}
