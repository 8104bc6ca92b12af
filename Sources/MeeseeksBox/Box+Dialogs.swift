import Logging
import MeeseeksConfig
import MeeseeksCore

extension Box {
    /// The interpreter's world right now.
    func world() -> World {
        let snapshot = config.snapshot
        return World(configuration: snapshot.configuration, engine: snapshot.engine, agents: connectedAgents(), now: clock())
    }

    /// Starts a dialog for `user` on a surface and feeds it the text that opened it.
    @discardableResult
    public func openDialog(id: String, user: String, channel: String?, text: String, transport: [String: String]) -> Dialog {
        var dialog = Dialog(id: id, user: user, channel: channel, now: clock())
        dialog.transport = transport
        try? store.save(dialog)
        return handle(dialog, DialogInput(.opened(text: text))) ?? dialog
    }

    /// Feeds one event to a stored dialog; nil when there is no such dialog.
    @discardableResult
    public func handle(_ dialogID: String, _ input: DialogInput) -> Dialog? {
        guard let dialog = try? store.dialog(dialogID) else { return nil }
        return handle(dialog, input)
    }

    /// Runs the interpreter and its effects until no effect feeds another event back.
    private func handle(_ start: Dialog, _ first: DialogInput) -> Dialog? {
        var dialog = start
        var inputs = [first]
        while !inputs.isEmpty {
            let input = inputs.removeFirst()
            let effects = Conversation.handle(&dialog, input, in: world())
            try? store.save(dialog)
            for effect in effects {
                if let next = run(effect, in: dialog) { inputs.append(next) }
            }
        }
        return dialog
    }

    /// Carries out one effect; returns the event it produces, if any.
    private func run(_ effect: DialogEffect, in dialog: Dialog) -> DialogInput? {
        let transport = transports[dialog.transport["kind"] ?? "api"]
        switch effect {
        case .show(let view):
            transport?.show(view, in: dialog)
        case .post(let view):
            transport?.post(view, in: dialog)
        case .audit(let record):
            self.record(record)
        case .cancelJob(let id):
            do {
                _ = try cancel(id, by: dialog.user, asAdmin: false)
            } catch {
                transport?.post(.notice(.init(.invalid, error.description)), in: dialog)
            }
        case .submit(let request):
            do {
                let job = try submit(request)
                return DialogInput(.jobAccepted(jobID: job.id))
            } catch {
                logger.error("cannot store a job", metadata: ["error": "\(error)"])
                return DialogInput(.jobRejected(reason: "I couldn't queue that job; the box's store failed. Try again."))
            }
        case .builtin(let call):
            transport?.post(answer(call, for: dialog.user), in: dialog)
        }
        return nil
    }

    /// The answer to a built-in, as a view.
    func answer(_ call: Builtin, for user: String) -> DialogView {
        let isAdmin = config.snapshot.engine.isAdmin(user)
        func own(_ id: Int64) -> Job? {
            guard let job = try? store.job(id), job.requester == user || isAdmin else { return nil }
            return job
        }
        func info(_ text: String) -> DialogView { .notice(.init(.info, text)) }
        let missing: (Int64) -> DialogView = { .notice(.init(.invalid, "There is no job #\($0) of yours.")) }
        switch call {
        case .jobs(let user):
            return info(BuiltinFormatter.jobs((try? store.jobs(JobQuery(requester: user, topLevelOnly: true, limit: 10))) ?? []))
        case .last(let user):
            guard let job = (try? store.jobs(JobQuery(requester: user, topLevelOnly: true, limit: 1)))?.first else {
                return info("You have no jobs yet.")
            }
            return info(BuiltinFormatter.detail(job, children: children(of: job)))
        case .job(let id):
            guard let job = own(id) else { return missing(id) }
            return info(BuiltinFormatter.detail(job, children: children(of: job)))
        case .logs(let id), .tail(let id):
            guard let job = own(id) else { return missing(id) }
            let size = (try? store.outputSize(job.id)) ?? 0
            let window = 3000
            let bytes = (try? store.output(job.id, from: max(0, size - window), limit: window)) ?? []
            let text = String(decoding: bytes, as: UTF8.self)
            let cut = size > window ? "(last \(window) of \(size) bytes; `meeseeks logs \(id)` prints it all)\n" : ""
            return info(cut + (text.isEmpty ? "(no output)" : text))
        case .cancel(let id), .kill(let id):
            var asAdmin = false
            if case .kill = call { asAdmin = true }
            do {
                let job = try cancel(id, by: user, asAdmin: asAdmin && isAdmin)
                return info("Cancelling job #\(job.id) (\(job.command)).")
            } catch {
                return .notice(.init(.invalid, error.description))
            }
        case .agents:
            return info(BuiltinFormatter.agents(agentRecords()))
        case .audit(let query):
            return info(BuiltinFormatter.audit((try? store.audit(query)) ?? []))
        }
    }

    func children(of job: Job) -> [Job] {
        job.isBroadcast ? ((try? store.jobs(JobQuery(parentID: job.id, limit: 1000, oldestFirst: true))) ?? []) : []
    }

    /// Ends dialogs left waiting longer than the idle timeout, telling their users (the message
    /// is updated in place) rather than waiting for a click on a dead button. Called periodically.
    public func expireIdleDialogs() {
        let timeout = Double(config.snapshot.configuration.settings.dialogIdleTimeout)
        let ids = (try? store.idleDialogs(before: clock() - timeout, limit: 500)) ?? []
        for id in ids { handle(id, DialogInput(.tick)) }
    }
}
