import Foundation
public import Logging
public import MeeseeksConfig
public import MeeseeksCore

/// What the Slack adapter needs from the box: dialogs, by id.
public protocol SlackDialogHost: Sendable {
    func openDialog(id: String, user: String, channel: String?, text: String, transport: [String: String]) async
    /// Feeds an event to a dialog of `user`, after merging `transport` into the dialog's.
    func handle(dialogID: String, user: String, input: DialogInput, transport: [String: String]) async -> SlackDialogAnswer
    /// The live persona, for phrases.
    func persona() -> Persona
}

public enum SlackDialogAnswer: Sendable {
    case handled, notFound, notYours
}

/// The Slack surface: takes inbound requests (acknowledged before they are processed, each event
/// once), feeds dialogs, and renders dialog views into the outbox.
public final class SlackService: ChatTransport {
    let host: any SlackDialogHost
    let api: SlackWebAPI
    let outbox: SlackOutbox
    /// Display names for the user IDs in built-ins' answers.
    let directory: SlackDirectory?
    let logger: Logger
    private let queue: AsyncStream<SlackRequest>.Continuation
    private let requests: AsyncStream<SlackRequest>

    public init(host: any SlackDialogHost, api: SlackWebAPI, outbox: SlackOutbox, directory: SlackDirectory? = nil, logger: Logger) {
        self.host = host
        self.api = api
        self.outbox = outbox
        self.directory = directory
        self.logger = logger
        (requests, queue) = AsyncStream.makeStream(of: SlackRequest.self)
    }

    /// Queues a request for processing after the acknowledgement. Returns false for a retried
    /// event already seen (Slack retries when an ack is slow; a retry is never a new command).
    @discardableResult
    public func accept(_ request: SlackRequest) -> Bool {
        if case .open(_, _, _, _, let eventID?) = request {
            // Kept in the store, not in memory: Slack retries for minutes, across a restart too.
            let now = Date().timeIntervalSince1970
            let fresh: Bool
            do {
                fresh = try outbox.store.firstSighting(ofEvent: eventID, at: now, forgetBefore: now - 3600)
            } catch {
                // A possible duplicate beats a lost request.
                logger.error("cannot record a Slack event id", metadata: ["event_id": "\(eventID)", "error": "\(error)"])
                fresh = true
            }
            guard fresh else {
                logger.info("duplicate Slack event ignored", metadata: ["event_id": "\(eventID)"])
                return false
            }
        }
        if case .ignore(let why) = request {
            logger.debug("Slack payload ignored", metadata: ["why": "\(why)"])
            return true
        }
        queue.yield(request)
        return true
    }

    /// Processes accepted requests one at a time, in arrival order. Run it from a service.
    public func run() async {
        for await request in requests {
            await process(request)
        }
    }

    public func stop() {
        queue.finish()
    }

    func process(_ request: SlackRequest) async {
        switch request {
        case .open(let user, let channel, let thread, let text, _):
            var transport = ["kind": "slack", "channel": channel]
            if let thread { transport["thread"] = thread }
            let id = "s" + UUID().uuidString.replacing("-", with: "").lowercased().prefix(20)
            await host.openDialog(id: id, user: user, channel: channel, text: text, transport: transport)
        case .event(let user, let dialog, let input, _, let trigger):
            var transport: [String: String] = [:]
            if let trigger { transport["trigger"] = trigger }
            switch await host.handle(dialogID: dialog, user: user, input: input, transport: transport) {
            case .handled: break
            case .notFound: logger.info("Slack action for an unknown dialog", metadata: ["dialog": "\(dialog)"])
            case .notYours:
                logger.info("Slack action on someone else's dialog", metadata: ["dialog": "\(dialog)", "user": "\(user)"])
            }
        case .openCodeModal(_, let dialog, let step, let trigger):
            let view = renderer.codeModal(DialogView.Challenge(dialogID: dialog, step: step, command: "", error: nil))
            _ = await api.call("views.open", ["trigger_id": .string(trigger), "view": view])
        case .ignore:
            break
        }
    }

    var renderer: BlockKitRenderer { BlockKitRenderer(phrases: PhrasePicker(persona: host.persona())) }

    // MARK: ChatTransport

    public func show(_ view: DialogView, in dialog: Dialog) {
        if case .challenge(let challenge) = view, let trigger = dialog.transport["trigger"] {
            // The trigger expires in 3 seconds: open the modal now, not through the outbox.
            let modal = renderer.codeModal(challenge)
            let api = api
            Task { _ = await api.call("views.open", ["trigger_id": .string(trigger), "view": modal]) }
        }
        enqueue(view, in: dialog, operation: .update)
    }

    public func post(_ view: DialogView, in dialog: Dialog) {
        enqueue(view, in: dialog, operation: .post)
    }

    /// A built-in's answer (`jobs`, `audit`, …) with each user ID followed by the user's name,
    /// from the cache; IDs not in it are looked up for the next answer, which nothing waits for.
    private func named(_ view: DialogView) -> DialogView {
        guard case .notice(var notice) = view, notice.kind == .info, let directory else { return view }
        let unknown = directory.unlearnt(SlackDirectory.userIDs(in: notice.text))
        if !unknown.isEmpty {
            Task { await directory.lookUp(unknown) }
        }
        notice.text = directory.annotate(notice.text)
        return .notice(notice)
    }

    private func enqueue(_ view: DialogView, in dialog: Dialog, operation: OutboxMessage.Operation) {
        guard let channel = dialog.transport["channel"] else { return }
        let message = renderer.render(named(view))
        var payload: JSON = ["text": .string(message.text), "blocks": .array(message.blocks)]
        if let thread = dialog.transport["thread"] { payload["thread_ts"] = .string(thread) }
        outbox.send(
            OutboxMessage(
                orderKey: channel, operation: operation, payload: payload.encoded(), channel: channel,
                messageKey: operation == .update ? "dialog:\(dialog.id)" : nil, createdAt: Date().timeIntervalSince1970))
    }
}
