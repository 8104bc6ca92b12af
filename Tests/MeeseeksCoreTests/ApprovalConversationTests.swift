import MeeseeksConfig
import MeeseeksCore
import Testing

@Suite("The interpreter with approval: the job is handed over at once, a 2FA code is asked once approved")
struct ApprovalConversationTests {
    typealias F = ConversationFixture

    static func world() -> World {
        var restart = F.restart
        restart.approval = ApprovalSpec(roles: ["admin"], count: 1, timeout: 600)
        let base = F.world()
        return World(
            configuration: Configuration(commands: [F.hello, restart], policy: base.configuration.policy), engine: base.engine,
            agents: base.agents, now: base.now)
    }

    @discardableResult
    func feed(_ dialog: inout Dialog, _ events: [DialogEvent], now: Double = 1000) -> [DialogEffect] {
        var world = Self.world()
        world.now = now
        var effects: [DialogEffect] = []
        for event in events { effects = Conversation.handle(&dialog, DialogInput(event, step: dialog.step), in: world) }
        return effects
    }

    func challenge(_ effects: [DialogEffect]) -> DialogView.Challenge? {
        effects.compactMap { if case .show(.challenge(let c)) = $0 { c } else { nil } }.first
    }

    @Test("confirming submits without a code; acceptance says who must approve")
    func submitWithoutCode() {
        var dialog = F.dialog()
        let effects = feed(&dialog, [.opened(text: "restart nginx"), .confirmed(true)])
        let request = effects.compactMap { if case .submit(let r) = $0 { r } else { nil } }.first
        #expect(request != nil && request?.twoFactorCode == nil)
        #expect(dialog.phase == .submitted)
        let accepted = feed(&dialog, [.jobAccepted(jobID: 9)])
        guard case .show(.accepted(let view)) = accepted.first else {
            Issue.record("no acceptance: \(accepted)")
            return
        }
        #expect(view.approval == DialogView.ApprovalNeed(roles: ["admin"], count: 1, timeout: 600))
        #expect(view.approval?.summary == "1 approval from admin, within 10m")
    }

    @Test("approved: the code is asked, checked for shape, and the job released with it")
    func codeAfterApproval() {
        var dialog = F.dialog()
        feed(&dialog, [.opened(text: "restart nginx"), .confirmed(true), .jobAccepted(jobID: 9)])
        #expect(feed(&dialog, [.approved(jobID: 8)]).count == 1)  // another job's: stale, nothing changes
        #expect(dialog.phase == .running(jobID: 9))
        #expect(challenge(feed(&dialog, [.approved(jobID: 9)]))?.error == nil)
        #expect(dialog.phase == .awaitingCodeToRun(jobID: 9))
        #expect(challenge(feed(&dialog, [.codeEntered("12")]))?.error == "A code is 6 to 8 digits from your authenticator app.")
        #expect(dialog.phase == .awaitingCodeToRun(jobID: 9))
        #expect(feed(&dialog, [.codeEntered("123 456")]) == [.releaseApproved(jobID: 9, code: "123456")])
        #expect(dialog.phase == .running(jobID: 9))
    }

    @Test("cancelling at the code prompt, or letting it expire, cancels the approved job")
    func cancelAtCode() {
        var dialog = F.dialog()
        feed(&dialog, [.opened(text: "restart nginx"), .confirmed(true), .jobAccepted(jobID: 9), .approved(jobID: 9)])
        var expired = dialog
        #expect(feed(&dialog, [.cancelled]) == [.cancelJob(9)])
        #expect(dialog.phase == .running(jobID: 9))
        let effects = feed(&expired, [.tick], now: 1000 + 3600)
        #expect(effects.first == .cancelJob(9))
        #expect(expired.phase == .finished)
    }

    @Test("approved long after the request: the code prompt's idle time starts at the approval")
    func lateApproval() {
        var dialog = F.dialog()
        feed(&dialog, [.opened(text: "restart nginx"), .confirmed(true), .jobAccepted(jobID: 9)])
        feed(&dialog, [.approved(jobID: 9)], now: 1000 + 3600)
        #expect(dialog.phase == .awaitingCodeToRun(jobID: 9))
        #expect(feed(&dialog, [.tick], now: 1000 + 3600 + 60).isEmpty)
        #expect(dialog.phase == .awaitingCodeToRun(jobID: 9))
        // Approved again (a box resuming after a restart): the prompt is shown again, nothing else.
        #expect(feed(&dialog, [.approved(jobID: 9)], now: 4700).count == 1)
        #expect(dialog.phase == .awaitingCodeToRun(jobID: 9))
    }

    @Test("the job ending while its code is awaited ends the dialog with the result")
    func endedWhileAwaitingCode() {
        var dialog = F.dialog()
        feed(&dialog, [.opened(text: "restart nginx"), .confirmed(true), .jobAccepted(jobID: 9), .approved(jobID: 9)])
        let report = JobReport(jobID: 9, command: "restart", status: .expired, reason: "nobody approved it within 10m")
        #expect(feed(&dialog, [.jobFinished(report)]) == [.post(.result(.init(user: "USRE", report: report)))])
        #expect(dialog.phase == .finished)
    }

    @Test("a code the agent refuses ends the dialog: a new job needs its approvers again")
    func codeRefused() {
        var dialog = F.dialog()
        feed(
            &dialog,
            [.opened(text: "restart nginx"), .confirmed(true), .jobAccepted(jobID: 9), .approved(jobID: 9), .codeEntered("123456")])
        feed(&dialog, [.codeRejected(message: "wrong code.", final: false)])
        #expect(dialog.phase == .finished)
    }
}
