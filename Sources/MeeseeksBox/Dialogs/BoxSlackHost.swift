import MeeseeksConfig
import MeeseeksCore
import MeeseeksSlack

/// The orchestrator as the Slack adapter sees it.
struct BoxSlackHost: SlackDialogHost {
    let box: Orchestrator

    func openDialog(id: String, user: String, channel: String?, text: String, transport: [String: String]) async {
        await box.openDialog(id: id, user: user, channel: channel, text: text, transport: transport)
    }

    func handle(dialogID: String, user: String, input: DialogInput, transport: [String: String]) async -> SlackDialogAnswer {
        switch await box.handle(dialogID, input, from: user, transport: transport) {
        case .handled: .handled
        case .notFound: .notFound
        case .notYours: .notYours
        }
    }

    func decide(jobID: Int64, user: String, approve: Bool, reason: String?) async -> String {
        do {
            let (job, decisions) = try await box.decide(jobID, by: user, approve: approve, reason: reason)
            let needed = box.config.snapshot.configuration.command(named: job.command)?.approval?.count ?? 0
            return ApprovalRules.afterDecision(job, approved: approve, missing: max(0, needed - decisions.filter(\.approved).count))
        } catch {
            return error.description
        }
    }

    func persona() -> Persona {
        box.config.snapshot.configuration.settings.persona
    }
}
