public import MeeseeksConfig
import MeeseeksLabels

/// The conversation interpreter: `(dialog, event) → (dialog, effects)`, pure and deterministic.
///
/// It never performs I/O, reads a clock or makes an identifier: the box passes a `World` snapshot
/// and runs the returned effects, feeding their results back as events. An event that does not fit
/// the dialog's phase changes nothing and says why.
public enum Conversation {
    public static func handle(_ dialog: inout Dialog, _ input: DialogInput, in world: World) -> [DialogEffect] {
        let event = input.event
        if dialog.phase == .finished {
            return event.isUserAction || isOpen(event)
                ? [.post(.notice(.init(.stale, "This conversation is over. Mention me again to start a new one.")))] : []
        }
        if event.isUserAction || event == .tick, dialog.phase.isInteractive,
            world.now - dialog.updatedAt > Double(world.configuration.settings.dialogIdleTimeout)
        {
            // An approved job whose code never came is not left waiting for it.
            var effects: [DialogEffect] = []
            if case .awaitingCodeToRun(let id) = dialog.phase { effects.append(.cancelJob(id)) }
            dialog.phase = .finished
            let idle = DurationText.format(world.configuration.settings.dialogIdleTimeout)
            return effects + [
                .show(
                    .notice(.init(.expired, "This conversation expired after \(idle) without an answer. Mention me again to start over."))),
                .audit(AuditRecord(action: .dialogExpired, user: dialog.user, command: dialog.command, outcome: "abandoned")),
            ]
        }
        if event.isUserAction, let step = input.step, step != dialog.step {
            return [.post(.notice(.init(.stale, "That button belongs to an earlier step of this conversation; use the latest message.")))]
        }
        if event.isUserAction { dialog.updatedAt = world.now }

        var machine = Machine(dialog: dialog, world: world)
        machine.handle(event)
        dialog = machine.dialog
        return machine.effects
    }

    private static func isOpen(_ event: DialogEvent) -> Bool {
        if case .opened = event { return true }
        return false
    }
}

/// One step of the interpreter, accumulating effects.
struct Machine {
    var dialog: Dialog
    let world: World
    var effects: [DialogEffect] = []

    init(dialog: Dialog, world: World) {
        self.dialog = dialog
        self.world = world
    }

    var spec: CommandSpec? { dialog.command.flatMap { world.configuration.command(named: $0) } }

    mutating func handle(_ event: DialogEvent) {
        switch (dialog.phase, event) {
        case (_, .tick):
            break
        case (.menu, .opened(let text)):
            open(text)
        case (.menu, .picked(let name)):
            pick(name, typed: nil)
        case (.prompting(let argument), .answered(let value)):
            answer(argument, value)
        case (.prompting(let argument), .skipped):
            skip(argument)
        case (.confirming, .confirmed(true)):
            confirm()
        case (.confirming, .confirmed(false)):
            cancel(reason: .dialogDeclined)
        case (.awaitingCode, .codeEntered(let code)):
            submit(code: code)
        case (.menu, .cancelled), (.prompting, .cancelled), (.confirming, .cancelled), (.awaitingCode, .cancelled):
            cancel(reason: .dialogCancelled)
        case (.submitted, .resumed):
            resubmit()
        case (_, .resumed):
            break
        case (.submitted, .jobAccepted(let id)):
            accepted(id)
        case (.submitted, .jobRejected(let reason)):
            finish(.notice(.init(.refused, reason)), audit: nil)
        case (.running(let id), .cancelled):
            effects.append(.cancelJob(id))
        case (.running(let id), .approved(let jobID)) where id == jobID,
            (.awaitingCodeToRun(let id), .approved(let jobID)) where id == jobID:
            challengeToRun(id, error: nil)
        case (.awaitingCodeToRun(let id), .codeEntered(let code)):
            release(id, code: code)
        case (.awaitingCodeToRun(let id), .cancelled):
            dialog.phase = .running(jobID: id)
            effects.append(.cancelJob(id))
        case (.running(let id), .jobFinished(let report)) where report.jobID == id,
            (.awaitingCodeToRun(let id), .jobFinished(let report)) where report.jobID == id:
            dialog.phase = .finished
            effects.append(.post(.result(.init(user: dialog.user, report: report))))
        case (.running, .codeRejected(let message, let final)), (.submitted, .codeRejected(let message, let final)):
            codeRejected(message, final: final)
        default:
            effects.append(.post(.notice(.init(.stale, unexpectedMessage(event)))))
        }
    }

    private func unexpectedMessage(_ event: DialogEvent) -> String {
        switch dialog.phase {
        case .submitted, .running: "Your request is already on its way; wait for the result (or cancel it)."
        default: "That doesn't fit this step of the conversation; use the latest message."
        }
    }

    // MARK: - Opening

    mutating func open(_ text: String) {
        effects.append(.audit(AuditRecord(action: .dialogOpened, user: dialog.user, outcome: "ok")))
        let trimmed = AliasExpansion.expand(text.trimmingSpaces, in: world.configuration)
        if trimmed.isEmpty { return showMenu() }
        let request: TypedRequest
        do {
            request = try TypedRequest.parse(trimmed) { command, name in
                world.configuration.command(named: command)?.argument(named: name) != nil
            }
        } catch {
            return finish(.notice(.init(.invalid, "I couldn't read that: \(error).")), audit: nil)
        }
        let roles = world.engine.roles(of: dialog.user)
        let isAdmin = roles.contains(PolicySet.adminRole)
        if let builtin = BuiltinParser.parse(request, user: dialog.user, isAdmin: isAdmin, hasRole: !roles.isEmpty) {
            switch builtin {
            case .success(.some(let call)):
                dialog.phase = .finished
                effects.append(.builtin(call))
            case .success(.none):
                finish(.help(help()), audit: nil)
            case .failure(let notice):
                // A refused built-in is audited like a refused command; a malformed one is not.
                let audit =
                    notice.kind == .refused
                    ? AuditRecord(
                        action: .builtinDenied, user: dialog.user, command: request.command, outcome: "denied",
                        reason: roles.isEmpty ? "no_role" : "not_admin", detail: notice.text)
                    : nil
                finish(.notice(notice), audit: audit)
            }
            return
        }
        pick(request.command, typed: request)
    }

    mutating func showMenu() {
        let commands = world.commands(for: dialog.user)
        dialog.step += 1
        dialog.phase = .menu
        effects.append(
            .show(.menu(.init(dialogID: dialog.id, step: dialog.step, user: dialog.user, commands: commands.map(entry)))))
    }

    func entry(_ command: CommandSpec) -> DialogView.CommandEntry {
        DialogView.CommandEntry(
            name: command.name,
            summary: command.aliases.isEmpty ? command.summary : "\(command.summary) (also: \(command.aliases.joined(separator: ", ")))")
    }

    /// The presets this user may use (those standing for a command they may run).
    func presetEntries() -> [DialogView.CommandEntry] {
        world.configuration.aliases.sorted { $0.key < $1.key }.compactMap { word, target in
            guard case .preset(let request) = target, let command = request.split(separator: " ").first.map(String.init),
                world.engine.mayRequest(user: dialog.user, command: command)
            else { return nil }
            return DialogView.CommandEntry(name: word, summary: "stands for: \(request)")
        }
    }

    func help() -> DialogView.Help {
        var builtins = BuiltinParser.help
        let roles = world.engine.roles(of: dialog.user)
        if !roles.contains(PolicySet.adminRole) { builtins.removeAll { BuiltinParser.adminOnly.contains($0.name) } }
        if roles.isEmpty { builtins.removeAll { BuiltinParser.roleOnly.contains($0.name) } }
        return .init(commands: world.commands(for: dialog.user).map(entry) + presetEntries(), builtins: builtins)
    }

    // MARK: - Picking and arguments

    mutating func pick(_ name: String, typed request: TypedRequest?) {
        guard let spec = world.configuration.command(named: name) else {
            let refusal = Refusal.unknownCommand(name)
            return finish(
                .notice(.init(.refused, refusal.description)),
                audit: AuditRecord(action: .commandRequested, user: dialog.user, command: name, outcome: "denied", reason: refusal.reason))
        }
        dialog.command = name
        guard world.engine.mayRequest(user: dialog.user, command: name) else {
            let roles = world.engine.roles(of: dialog.user)
            return refuse(roles.isEmpty ? .noRole(user: dialog.user) : .noGrant(command: name, roles: roles))
        }
        effects.append(.audit(AuditRecord(action: .commandPicked, user: dialog.user, command: name, outcome: "ok")))
        if let request {
            dialog.typed = true
            if let problem = fill(spec, from: request) {
                return finish(
                    .notice(.init(.invalid, problem)),
                    audit: AuditRecord(
                        action: .commandRequested, user: dialog.user, command: name, outcome: "invalid", reason: "invalid_argument",
                        detail: problem))
            }
        }
        advance(spec)
    }

    /// Fills answers from a typed request; returns a problem to report, if any.
    mutating func fill(_ spec: CommandSpec, from request: TypedRequest) -> String? {
        if let selector = request.selector {
            let parsed = LabelSelector.parse(selector)
            if let error = parsed.errors.first { return "invalid selector '\(selector)': \(error)" }
            dialog.selector = selector
        }
        return ArgumentBinding.bind(
            spec, positional: request.positional, named: request.named.map { ($0.name, $0.value) }, into: &dialog.answers)
    }

    func normalized(_ value: String, _ argument: ArgumentSpec) -> String {
        ArgumentBinding.normalized(value, argument)
    }

    /// Prompts for the next missing argument, or moves on to targets and confirmation.
    mutating func advance(_ spec: CommandSpec) {
        for argument in spec.arguments where dialog.answers[argument.name] == nil {
            if dialog.typed, !argument.required {
                if let value = argument.defaultValue { dialog.answers[argument.name] = value }
                continue
            }
            if dialog.skipped.contains(argument.name) { continue }
            return prompt(argument, spec, error: nil)
        }
        authorizeAndConfirm(spec)
    }

    mutating func prompt(_ argument: ArgumentSpec, _ spec: CommandSpec, error: String?) {
        dialog.step += 1
        dialog.phase = .prompting(argument.name)
        effects.append(
            .show(
                .prompt(
                    .init(
                        dialogID: dialog.id, step: dialog.step, command: spec.name, argument: argument.name,
                        question: argument.prompt, kind: argument.kind, choices: argument.choices,
                        defaultValue: argument.secret ? nil : argument.defaultValue, required: argument.required,
                        secret: argument.secret, error: error))))
    }

    mutating func answer(_ name: String, _ value: String) {
        guard let spec, let argument = spec.argument(named: name) else { return showMenu() }
        let trimmed = argument.kind == .text ? value : value.trimmingSpaces
        if trimmed.isEmpty { return skip(name) }
        if let problem = ArgumentValidation.problem(trimmed, for: argument) {
            return prompt(argument, spec, error: problem)
        }
        dialog.answers[name] = normalized(trimmed, argument)
        advance(spec)
    }

    mutating func skip(_ name: String) {
        guard let spec, let argument = spec.argument(named: name) else { return showMenu() }
        if let value = argument.defaultValue {
            dialog.answers[name] = value
        } else if argument.required {
            return prompt(argument, spec, error: "\(name) is required")
        } else {
            dialog.skipped.append(name)
        }
        advance(spec)
    }
}
