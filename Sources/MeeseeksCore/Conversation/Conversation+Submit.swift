import MeeseeksConfig
import MeeseeksLabels

extension Machine {
    /// The request's targets under the current policy, or a refusal.
    func decide(_ spec: CommandSpec) -> PolicyDecision {
        // Fail closed: a selector that does not parse never widens to every agent.
        // The parse error itself is not needed: an unreadable selector refuses (fails closed).
        guard let selector = try? LabelSelector(dialog.selector) else { return .refused(.invalidSelector(dialog.selector)) }
        return world.engine.authorize(
            user: dialog.user, command: spec, requestSelector: selector, channel: dialog.channel, agents: world.agents)
    }

    mutating func authorizeAndConfirm(_ spec: CommandSpec) {
        switch decide(spec) {
        case .refused(let refusal):
            return refuse(refusal)
        case .allowed(let targets, let grants):
            dialog.targets = targets.map(\.id)
            effects.append(
                .audit(
                    AuditRecord(
                        action: .policyAllowed, user: dialog.user, command: spec.name, outcome: "allowed",
                        detail: "grant at \(grants[0].position); targets \(dialog.targets.joined(separator: ","))")))
        }
        switch spec.confirm {
        case .never:
            challengeOrSubmit(spec)
        case .always, .template:
            dialog.step += 1
            dialog.phase = .confirming
            effects.append(.show(.confirm(confirmation(spec))))
        }
    }

    func confirmation(_ spec: CommandSpec) -> DialogView.Confirmation {
        var text: String?
        if case .template(let template) = spec.confirm {
            var values = visibleAnswers(spec)
            values["targets"] = targetsText(spec)
            values["user"] = dialog.user
            text = template.render(values)
        }
        let shown = visibleAnswers(spec)
        return DialogView.Confirmation(
            dialogID: dialog.id, step: dialog.step, command: spec.name, text: text,
            arguments: spec.arguments.compactMap { a in shown[a.name].map { "\(a.name)=\($0)" } },
            targets: dialog.targets, destructive: spec.destructive)
    }

    /// Answers with secrets masked, for anything shown.
    func visibleAnswers(_ spec: CommandSpec) -> [String: String] {
        var values = dialog.answers
        for argument in spec.arguments where argument.secret && values[argument.name] != nil {
            values[argument.name] = maskedValue
        }
        return values
    }

    func targetsText(_ spec: CommandSpec) -> String {
        if spec.mode == .one, dialog.targets.count > 1 { return "one of \(dialog.targets.joined(separator: ", "))" }
        return dialog.targets.joined(separator: ", ")
    }

    mutating func confirm() {
        guard let spec else { return showMenu() }
        effects.append(.audit(AuditRecord(action: .dialogConfirmed, user: dialog.user, command: spec.name, outcome: "ok")))
        // The policy may have changed since the targets were shown: check again.
        switch decide(spec) {
        case .refused(let refusal): refuse(refusal)
        case .allowed(let targets, _):
            dialog.targets = targets.map(\.id)
            challengeOrSubmit(spec)
        }
    }

    /// Whether the 2FA code is asked before the job is handed over: not when it needs approval
    /// first (the code is asked once approved, fresh for its agent).
    func codeFirst(_ spec: CommandSpec) -> Bool {
        spec.twoFactor && spec.approval == nil
    }

    mutating func challengeOrSubmit(_ spec: CommandSpec) {
        if codeFirst(spec) {
            challenge(spec, error: nil)
        } else {
            submit(code: nil)
        }
    }

    mutating func challenge(_ spec: CommandSpec, error: String?) {
        dialog.step += 1
        dialog.phase = .awaitingCode
        effects.append(.show(.challenge(.init(dialogID: dialog.id, step: dialog.step, command: spec.name, error: error))))
    }

    mutating func submit(code: String?) {
        guard let spec else { return showMenu() }
        if codeFirst(spec) {
            if let problem = CodeShape.problem(code ?? "") { return challenge(spec, error: problem) }
        }
        // Checked in `decide` already; refused here too rather than widened.
        guard let selector = try? LabelSelector(dialog.selector) else { return refuse(.invalidSelector(dialog.selector)) }
        dialog.phase = .submitted
        var arguments = dialog.answers
        for argument in spec.arguments where arguments[argument.name] == nil {
            arguments[argument.name] = argument.defaultValue ?? ""
        }
        effects.append(
            .submit(
                JobRequest(
                    command: spec.name, arguments: arguments, requester: dialog.user, channel: dialog.channel,
                    selector: selector, targets: dialog.targets,
                    mode: spec.mode, dialogID: dialog.id,
                    twoFactorCode: codeFirst(spec) ? code.map(CodeShape.digits) : nil,
                    // One job per hand-over, however often it is made again after a failover; a
                    // new 2FA code (a new step) is a new hand-over.
                    origin: "dialog:\(dialog.id):\(dialog.step)")))
    }

    /// Makes the hand-over again, with the policy checked again. A 2FA code is never kept, so a
    /// two-factor request is ended instead: the user asks again with a fresh code.
    mutating func resubmit() {
        guard let spec else { return finish(.notice(.init(.refused, "The command of this request is gone; nothing ran.")), audit: nil) }
        if codeFirst(spec) {
            return finish(
                .notice(.init(.refused, "The box changed hands before your job was queued, and a 2FA code is never kept: ask again.")),
                audit: nil)
        }
        switch decide(spec) {
        case .refused(let refusal): refuse(refusal)
        case .allowed(let targets, _):
            dialog.targets = targets.map(\.id)
            submit(code: nil)
        }
    }

    mutating func accepted(_ id: Int64) {
        dialog.jobID = id
        dialog.phase = .running(jobID: id)
        effects.append(
            .show(
                .accepted(
                    .init(
                        user: dialog.user, command: dialog.command ?? "", jobID: id, targets: dialog.targets,
                        approval: spec?.approval.map { .init(roles: $0.roles, count: $0.count, timeout: $0.timeout) }))))
    }

    /// The approvers said yes: the requester gives the 2FA code now.
    mutating func challengeToRun(_ jobID: Int64, error: String?) {
        // The user is asked now: their idle time starts now, not at their last click (which
        // came before the approvers took their time).
        dialog.updatedAt = world.now
        dialog.step += 1
        dialog.phase = .awaitingCodeToRun(jobID: jobID)
        effects.append(.show(.challenge(.init(dialogID: dialog.id, step: dialog.step, command: dialog.command ?? "", error: error))))
    }

    mutating func release(_ jobID: Int64, code: String) {
        if let problem = CodeShape.problem(code) { return challengeToRun(jobID, error: problem) }
        dialog.phase = .running(jobID: jobID)
        effects.append(.releaseApproved(jobID: jobID, code: CodeShape.digits(code)))
    }

    mutating func codeRejected(_ message: String, final: Bool) {
        guard let spec else { return }
        dialog.codeFailures += 1
        if spec.approval != nil {
            // Its job has ended; a new one needs its approvers again.
            return finish(
                .notice(.init(.refused, "\(message) The job ended; ask again (it needs approval again).")), audit: nil)
        }
        if final {
            finish(.notice(.init(.refused, message)), audit: nil)
        } else {
            challenge(spec, error: message)
        }
    }

    mutating func cancel(reason: AuditAction) {
        finish(
            .notice(.init(.cancelled, "Okay, never mind!")),
            audit: AuditRecord(action: reason, user: dialog.user, command: dialog.command, outcome: "abandoned"))
    }

    mutating func refuse(_ refusal: Refusal) {
        finish(
            .notice(.init(.refused, refusal.description)),
            audit: AuditRecord(
                action: .policyDenied, user: dialog.user, command: dialog.command, outcome: "denied",
                reason: refusal.reason, detail: refusal.description))
    }

    mutating func finish(_ view: DialogView, audit: AuditRecord?) {
        dialog.phase = .finished
        effects.append(.show(view))
        if let audit { effects.append(.audit(audit)) }
    }
}
