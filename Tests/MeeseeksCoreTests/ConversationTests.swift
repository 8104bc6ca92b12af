import MeeseeksConfig
import MeeseeksCore
import MeeseeksLabels
import Testing

/// A small world: `hello` (one choice), `restart` (confirm + 2FA), a policy, two agents.
enum ConversationFixture {
    static let hello = CommandSpec(
        name: "hello", summary: "Say hello", action: .run([Template("/bin/echo"), Template("{{who}}")]),
        arguments: [ArgumentSpec(name: "who", prompt: "Who?", kind: .choice, choices: ["world", "Rick"])])
    static let restart = CommandSpec(
        name: "restart", summary: "Restart", action: .run([Template("/bin/true")]),
        arguments: [
            ArgumentSpec(name: "service", kind: .choice, choices: ["nginx", "redis"]),
            ArgumentSpec(name: "reason", kind: .text, pattern: "^[a-z ]{3,20}$", required: false, defaultValue: "routine"),
            ArgumentSpec(name: "token", kind: .text, required: false, secret: true),
        ],
        confirm: .template(Template("Restart {{service}} on {{targets}} for {{user}}?")), twoFactor: true)

    static func world(now: Double = 1000, policy: PolicySet = PolicyFixture.policy) -> World {
        World(
            configuration: Configuration(commands: [hello, restart], policy: policy),
            engine: PolicyEngine(policy: policy), agents: PolicyFixture.agents, now: now)
    }

    static func dialog(user: String = "USRE") -> Dialog { Dialog(id: "d1", user: user, channel: "C1", now: 1000) }
}

@Suite("The conversation interpreter")
struct ConversationTests {
    typealias F = ConversationFixture

    /// Feeds events in order at the dialog's current step; returns the last effects.
    @discardableResult
    func feed(_ dialog: inout Dialog, _ events: [DialogEvent], world: World = F.world()) -> [DialogEffect] {
        var effects: [DialogEffect] = []
        for event in events { effects = Conversation.handle(&dialog, DialogInput(event, step: dialog.step), in: world) }
        return effects
    }

    func views(_ effects: [DialogEffect]) -> [DialogView] {
        effects.compactMap {
            switch $0 {
            case .show(let view), .post(let view): view
            default: nil
            }
        }
    }

    func notice(_ effects: [DialogEffect]) -> DialogView.Notice? {
        views(effects).compactMap { if case .notice(let n) = $0 { n } else { nil } }.first
    }

    @Test("opening shows the greeting and only the commands the user may run")
    func openMenu() {
        var dev = F.dialog(user: "UDEV")
        let effects = feed(&dev, [.opened(text: "")])
        #expect(dev.phase == .menu)
        #expect(
            views(effects) == [.menu(.init(dialogID: "d1", step: 1, user: "UDEV", commands: [.init(name: "hello", summary: "Say hello")]))])
        #expect(effects.contains(.audit(AuditRecord(action: .dialogOpened, user: "UDEV", outcome: "ok"))))
    }

    @Test("pick, answer, and a command without confirm or 2FA is submitted at once")
    func pickAndSubmit() {
        var dialog = F.dialog()
        feed(&dialog, [.opened(text: ""), .picked(command: "hello")])
        #expect(dialog.phase == .prompting("who"))
        let effects = feed(&dialog, [.answered(value: "Rick")])
        #expect(dialog.phase == .submitted)
        let submitted = effects.compactMap { if case .submit(let r) = $0 { r } else { nil } }
        #expect(submitted.map(\.arguments) == [["who": "Rick"]])
        #expect(submitted.first?.targets == ["prd-web", "stg-db", "stg-web"])
    }

    @Test("an invalid answer re-prompts with the reason and keeps the dialog")
    func invalidAnswer() {
        var dialog = F.dialog()
        let effects = feed(&dialog, [.opened(text: ""), .picked(command: "hello"), .answered(value: "Morty")])
        #expect(dialog.phase == .prompting("who"))
        guard case .prompt(let prompt) = views(effects).last else {
            Issue.record("no prompt")
            return
        }
        #expect(prompt.error == "'Morty' is not one of world, Rick")
    }

    @Test("confirmation, 2FA and acceptance, with secrets masked in the confirmation")
    func confirmAndChallenge() {
        var dialog = F.dialog()
        feed(&dialog, [.opened(text: ""), .picked(command: "restart"), .answered(value: "nginx"), .skipped])
        #expect(dialog.answers["reason"] == "routine")
        var effects = feed(&dialog, [.answered(value: "hunter2")])
        #expect(dialog.phase == .confirming)
        guard case .confirm(let confirm) = views(effects).last else {
            Issue.record("no confirm")
            return
        }
        #expect(confirm.text == "Restart nginx on one of prd-web, stg-web for USRE?")
        #expect(confirm.arguments == ["service=nginx", "reason=routine", "token=\(maskedValue)"])
        effects = feed(&dialog, [.confirmed(true)])
        #expect(dialog.phase == .awaitingCode)
        effects = feed(&dialog, [.codeEntered("12ab")])
        guard case .challenge(let challenge) = views(effects).last else {
            Issue.record("no challenge")
            return
        }
        #expect(challenge.error == "A code is 6 to 8 digits from your authenticator app.")
        effects = feed(&dialog, [.codeEntered("123 456")])
        let request = effects.compactMap { if case .submit(let r) = $0 { r } else { nil } }.first
        #expect(request?.twoFactorCode == "123456")
        #expect(request?.arguments["token"] == "hunter2")
        effects = feed(&dialog, [.jobAccepted(jobID: 7)])
        #expect(dialog.phase == .running(jobID: 7))
        #expect(views(effects) == [.accepted(.init(user: "USRE", command: "restart", jobID: 7, targets: ["prd-web", "stg-web"]))])
        let report = JobReport(jobID: 7, command: "restart", status: .succeeded, exitCode: 0, output: "ok\n")
        effects = feed(&dialog, [.jobFinished(report)])
        #expect(dialog.phase == .finished)
        #expect(views(effects) == [.result(.init(user: "USRE", report: report))])
    }

    @Test("a wrong code from the agent asks again; a final refusal ends the dialog")
    func codeRejected() {
        var dialog = F.dialog()
        feed(&dialog, [.opened(text: "restart nginx"), .confirmed(true), .codeEntered("123456"), .jobAccepted(jobID: 3)])
        feed(&dialog, [.codeRejected(message: "wrong code, try again", final: false)])
        #expect(dialog.phase == .awaitingCode)
        let effects = feed(&dialog, [.codeRejected(message: "too many failures", final: true)])
        #expect(dialog.phase == .awaitingCode)  // not running: a rejection out of phase changes nothing
        #expect(notice(effects)?.kind == .stale)
    }

    @Test("a hand-over found without its job is made again with the same origin; a new 2FA step is a new origin")
    func resumedHandOver() {
        var dialog = F.dialog()
        let first = feed(&dialog, [.opened(text: ""), .picked(command: "hello"), .answered(value: "Rick")])
        let origin = first.compactMap { if case .submit(let r) = $0 { r.origin } else { nil } }.first
        #expect(origin == "dialog:d1:\(dialog.step)")
        // Stored as .submitted by a box that died before storing the job: made again, same origin.
        let again = feed(&dialog, [.resumed])
        #expect(again.compactMap { if case .submit(let r) = $0 { r.origin } else { nil } } == [origin])
        #expect(dialog.phase == .submitted)
        // Outside .submitted it changes nothing.
        feed(&dialog, [.jobAccepted(jobID: 9)])
        #expect(feed(&dialog, [.resumed]).isEmpty)
        #expect(dialog.phase == .running(jobID: 9))

        // A two-factor hand-over cannot be made again: the code was never kept.
        var secured = F.dialog()
        let codes = feed(&secured, [.opened(text: "restart nginx"), .confirmed(true), .codeEntered("123456")])
        let firstOrigin = codes.compactMap { if case .submit(let r) = $0 { r.origin } else { nil } }.first
        let ended = feed(&secured, [.resumed])
        #expect(secured.phase == .finished)
        #expect(notice(ended)?.text.contains("ask again") == true)
        // A second code after a rejection is a new hand-over with its own origin.
        var retried = F.dialog()
        feed(&retried, [.opened(text: "restart nginx"), .confirmed(true), .codeEntered("123456"), .jobAccepted(jobID: 3)])
        feed(&retried, [.codeRejected(message: "wrong code, try again", final: false)])
        let second = feed(&retried, [.codeEntered("654321")]).compactMap { if case .submit(let r) = $0 { r.origin } else { nil } }.first
        #expect(second != nil && second != firstOrigin)
    }

    @Test("declining or cancelling ends the dialog")
    func declineAndCancel() {
        var declined = F.dialog()
        feed(&declined, [.opened(text: "restart nginx"), .confirmed(false)])
        #expect(declined.phase == .finished)
        var cancelled = F.dialog()
        let effects = feed(&cancelled, [.opened(text: ""), .cancelled])
        #expect(cancelled.phase == .finished)
        #expect(notice(effects)?.kind == .cancelled)
    }

    @Test("cancel while running asks to cancel the job")
    func cancelRunning() {
        var dialog = F.dialog()
        let effects = feed(&dialog, [.opened(text: "hello world"), .jobAccepted(jobID: 9), .cancelled])
        #expect(effects == [.cancelJob(9)])
    }

    @Test("a stale or replayed event is refused and changes nothing")
    func staleEvents() {
        var dialog = F.dialog()
        feed(&dialog, [.opened(text: ""), .picked(command: "hello")])
        let before = dialog
        let effects = Conversation.handle(&dialog, DialogInput(.picked(command: "restart"), step: 1), in: F.world())
        #expect(dialog == before)
        #expect(notice(effects)?.kind == .stale)
        // An event that does not fit the phase changes nothing either.
        let misplaced = Conversation.handle(&dialog, DialogInput(.confirmed(true), step: dialog.step), in: F.world())
        #expect(dialog.phase == .prompting("who"))
        #expect(notice(misplaced)?.kind == .stale)
    }

    @Test("an idle dialog expires")
    func expiry() {
        var dialog = F.dialog()
        feed(&dialog, [.opened(text: "")])
        let later = F.world(now: 1000 + 901)
        let effects = Conversation.handle(&dialog, DialogInput(.picked(command: "hello"), step: dialog.step), in: later)
        #expect(dialog.phase == .finished)
        #expect(notice(effects)?.kind == .expired)
        let after = feed(&dialog, [.picked(command: "hello")])
        #expect(notice(after)?.text == "This conversation is over. Mention me again to start a new one.")
    }

    @Test("a role removed while the dialog is open is enforced at confirm")
    func policyRecheckedAtConfirm() {
        var dialog = F.dialog()
        feed(&dialog, [.opened(text: "restart nginx")])
        #expect(dialog.phase == .confirming)
        let revoked = PolicySet(roles: PolicyFixture.policy.roles.filter { $0.key != "sre" }, grants: PolicyFixture.policy.grants)
        let effects = feed(&dialog, [.confirmed(true)], world: F.world(policy: revoked))
        #expect(dialog.phase == .finished)
        #expect(notice(effects)?.kind == .refused)
        #expect(effects.contains { if case .audit(let a) = $0 { a.action == .policyDenied } else { false } })
    }

    @Test(
        "typed requests fill arguments, take defaults for optional ones, and check everything",
        arguments: [
            ("restart nginx", "confirming", nil),
            ("restart service=redis reason=\"disk full\"", "confirming", nil),
            ("restart nginx -l env=prd", "confirming", nil),
            ("restart nginx -l env=dev", "finished", "no agent you may use matches 'env=dev'"),
            ("restart nginx -l 'env in (a'", "finished", "invalid selector 'env in (a': 1:10: found end of string, expected: ',' or ')'"),
            ("restart nginx reason=X", "finished", "reason: 'X' does not match the pattern ^[a-z ]{3,20}$"),
            ("restart bogus=1", "finished", "service: 'bogus=1' is not one of nginx, redis"),
            ("restart", "prompting", nil),
            ("restart nginx nginx nginx nginx", "finished", "too many arguments for 'restart': nginx (it takes service, reason, token)"),
            ("restart service=nginx service=redis", "finished", "'service' is given twice"),
            ("nope", "finished", "there is no command 'nope'; say 'help' to see what you can run"),
            ("audit", "finished", "'audit' is for the admin role only"),
            ("job x", "finished", "'job' takes a job number, such as 'job 42'"),
        ])
    func typedRequests(text: String, phase: String, message: String?) {
        var dialog = F.dialog()
        let effects = feed(&dialog, [.opened(text: text)])
        let phaseName: String =
            switch dialog.phase {
            case .confirming: "confirming"
            case .finished: "finished"
            case .prompting: "prompting"
            default: "\(dialog.phase)"
            }
        #expect(phaseName == phase)
        if let message { #expect(notice(effects)?.text == message) }
    }

    @Test("built-ins become effects for the box")
    func builtins() {
        var dialog = F.dialog()
        #expect(feed(&dialog, [.opened(text: "jobs")]).contains(.builtin(.jobs(user: "USRE"))))
        var other = F.dialog()
        #expect(feed(&other, [.opened(text: "logs #12")]).contains(.builtin(.logs(12))))
        var help = F.dialog(user: "UDEV")
        guard case .help(let view) = views(feed(&help, [.opened(text: "help")])).first else {
            Issue.record("no help")
            return
        }
        #expect(view.commands.map(\.name) == ["hello"])
        #expect(!view.builtins.map(\.name).contains("audit"))
    }
}

@Suite("Typed requests split like a shell, without one")
struct TypedRequestTests {
    @Test(
        "words, quotes and escapes",
        arguments: [
            ("a b  c", ["a", "b", "c"]),
            ("a \"b c\" 'd e'", ["a", "b c", "d e"]),
            ("reason=\"disk full\"", ["reason=disk full"]),
            ("a\\ b", ["a b"]),
            ("“smart quotes” ‘too’", ["smart quotes", "too"]),
            ("\"\"", [""]),
            ("$(rm -rf /) `x` ;|&", ["$(rm", "-rf", "/)", "`x`", ";|&"]),
        ])
    func splits(text: String, words: [String]) throws {
        #expect(try TypedRequest.split(text) == words)
    }

    @Test("an unbalanced quote is an error")
    func unbalanced() {
        #expect(throws: TypedRequest.ParseError.unbalancedQuote("'")) { try TypedRequest.split("a 'b") }
    }
}
