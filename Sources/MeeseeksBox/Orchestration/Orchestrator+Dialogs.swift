import Logging
import MeeseeksConfig
public import MeeseeksCore

/// Conversations: the dialog runtime runs the interpreter on each event; the effects it asks
/// for (a job, a cancel, a built-in's answer) are carried out here, and what they produce is fed
/// back as the next event.
extension Orchestrator {
    /// The interpreter's world right now.
    func world() -> World {
        let snapshot = config.snapshot
        return World(configuration: snapshot.configuration, engine: snapshot.engine, agents: registry.infos, now: clock())
    }

    /// Starts a dialog for `user` on a surface and feeds it the text that opened it.
    @discardableResult
    public func openDialog(id: String, user: String, channel: String?, text: String, transport: [String: String]) -> Dialog {
        // A request carried out again (its leader died before answering) finds its dialog.
        if let existing = dialogs.load(id) { return resumed(existing) }
        var dialog = Dialog(id: id, user: user, channel: channel, now: clock())
        dialog.transport = transport
        return run(dialog, DialogInput(.opened(text: text)))
    }

    /// Feeds one event to a stored dialog; nil when there is no such dialog.
    @discardableResult
    public func handle(_ dialogID: String, _ input: DialogInput) -> Dialog? {
        guard let dialog = dialogs.load(dialogID) else { return nil }
        return run(resumed(dialog), input)
    }

    /// An event from a chat surface: only the dialog's own user may act in it. `transport`
    /// updates the dialog's surface data (a fresh Slack trigger, say) before the event.
    func handle(_ dialogID: String, _ input: DialogInput, from user: String, transport: [String: String]) -> SurfaceAnswer {
        guard var dialog = dialogs.load(dialogID).map(resumed) else { return .notFound }
        guard dialog.user == user else {
            audit.record(
                AuditRecord(
                    action: .dialogForeignAction, user: user, command: dialog.command, outcome: "denied", detail: "dialog of \(dialog.user)"
                ))
            return .notYours
        }
        dialog.transport.merge(transport) { _, new in new }
        run(dialog, input)
        return .handled
    }

    enum SurfaceAnswer { case handled, notFound, notYours }

    /// A dialog is `.submitted` only within one run, between its hand-over and its job's id:
    /// stored so, it was left by a box that died or lost its database in between. The hand-over
    /// is finished first (the job's origin makes a second one the same job).
    private func resumed(_ dialog: Dialog) -> Dialog {
        guard dialog.phase == .submitted else { return dialog }
        logger.notice("finishing a hand-over a previous leader left", metadata: ["dialog": "\(dialog.id)"])
        return run(dialog, DialogInput(.resumed))
    }

    /// Ends dialogs left waiting longer than the idle timeout, telling their users (the message
    /// is updated in place) rather than waiting for a click on a dead button. Called periodically.
    public func expireIdleDialogs() {
        for id in dialogs.idle(timeout: Double(config.snapshot.configuration.settings.dialogIdleTimeout)) {
            handle(id, DialogInput(.tick))
        }
    }

    /// Runs the interpreter and its effects until no effect feeds another event back.
    @discardableResult
    private func run(_ start: Dialog, _ first: DialogInput) -> Dialog {
        var dialog = start
        var inputs = [first]
        while !inputs.isEmpty {
            let input = inputs.removeFirst()
            for effect in dialogs.interpret(&dialog, input, in: world()) {
                if let next = perform(effect, in: dialog) { inputs.append(next) }
            }
        }
        return dialog
    }

    /// Carries out one effect; returns the event it produces, if any.
    private func perform(_ effect: DialogEffect, in dialog: Dialog) -> DialogInput? {
        switch effect {
        case .show(let view):
            dialogs.render(view, in: dialog, replacing: true)
        case .post(let view):
            dialogs.render(view, in: dialog, replacing: false)
        case .audit(let record):
            audit.record(record)
        case .cancelJob(let id):
            do {
                _ = try cancel(id, by: dialog.user, asAdmin: false)
            } catch {
                dialogs.render(.notice(.init(.invalid, error.description)), in: dialog, replacing: false)
            }
        case .submit(let request):
            if let actedBy = dialog.transport["acted_by"], config.snapshot.configuration.command(named: request.command)?.approval != nil {
                audit.record(
                    AuditRecord(
                        action: .commandRequested, user: dialog.user, command: request.command, outcome: "denied", reason: "impersonated",
                        detail: "by \(actedBy)"))
                return DialogInput(.jobRejected(reason: Self.impersonatedApproval(request.command)))
            }
            do {
                let job = try submit(request)
                if !job.status.isFinal { progress.watch(job.id, command: job.command, in: dialog) }
                return DialogInput(.jobAccepted(jobID: job.id))
            } catch {
                logger.error("cannot store a job", metadata: ["error": "\(error)"])
                return DialogInput(.jobRejected(reason: "I couldn't queue that job; the box's store failed. Try again."))
            }
        case .releaseApproved(let jobID, let code):
            if let problem = releaseApproved(jobID, code: code, by: dialog.user) {
                // Ended here, so the dialog hears how (and is not left running a job that never will).
                let ended = dispatcher.endUnapproved(jobID, JobOutcome(status: .failed, reason: problem))
                if ended.isEmpty { dialogs.render(.notice(.init(.invalid, problem)), in: dialog, replacing: false) }
                settle(ended)
            }
        case .builtin(let call):
            dialogs.render(answer(call, for: dialog.user), in: dialog, replacing: false)
        }
        return nil
    }

    /// Shows each watched running job's progress in its dialog's message. Called periodically.
    public func reportProgress() {
        for (id, watch) in progress.watched {
            do {
                guard let job = try store.job(id) else {
                    progress.forget(id)
                    continue
                }
                if job.status.isFinal {
                    progress.forget(id)
                } else if let view = try ProgressTracker.view(of: job, now: clock(), history: store) {
                    dialogs.render(view, in: watch.dialog, replacing: true)
                    progress.shown(id)
                }
            } catch {
                logger.error("cannot read a running job's progress", metadata: ["job_id": "\(id)", "error": "\(error)"])
            }
        }
    }

    /// The answer to a built-in: the ones that change something (cancel, kill) go through the
    /// dispatcher; the others are queries.
    func answer(_ call: Builtin, for user: String) -> DialogView {
        let isAdmin = config.snapshot.engine.isAdmin(user)
        switch call {
        case .cancel(let id), .kill(let id):
            var asAdmin = false
            if case .kill = call { asAdmin = isAdmin }
            do {
                let job = try cancel(id, by: user, asAdmin: asAdmin)
                return .notice(.init(.info, "Cancelling job #\(job.id) (\(job.command))."))
            } catch {
                return .notice(.init(.invalid, error.description))
            }
        case .agents:
            return builtins.agents(agentRecords())
        default:
            return builtins.answer(call, for: user, isAdmin: isAdmin)
        }
    }
}
