import MeeseeksConfig
import MeeseeksCore
import MeeseeksSlack

/// The box as the Slack adapter sees it.
struct BoxSlackHost: SlackDialogHost {
    let box: Box

    func openDialog(id: String, user: String, channel: String?, text: String, transport: [String: String]) async {
        await box.openDialog(id: id, user: user, channel: channel, text: text, transport: transport)
    }

    func handle(dialogID: String, user: String, input: DialogInput, transport: [String: String]) async -> SlackDialogAnswer {
        await box.handle(dialogID, input, from: user, transport: transport)
    }

    func persona() -> Persona {
        box.config.snapshot.configuration.settings.persona
    }
}

extension Box {
    /// An event from a chat surface: only the dialog's own user may act in it. `transport` updates
    /// the dialog's surface data (a fresh Slack trigger, say) before the event is handled.
    func handle(_ dialogID: String, _ input: DialogInput, from user: String, transport: [String: String]) -> SlackDialogAnswer {
        guard var dialog = try? store.dialog(dialogID) else { return .notFound }
        guard dialog.user == user else {
            record(AuditRecord(action: "dialog.foreign_action", user: user, command: dialog.command, outcome: "denied", detail: "dialog of \(dialog.user)"))
            return .notYours
        }
        dialog.transport.merge(transport) { _, new in new }
        try? store.save(dialog)
        handle(dialogID, input)
        return .handled
    }
}
