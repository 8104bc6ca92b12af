import Foundation
public import HTTPTypes
public import Logging
public import MeeseeksConfig
public import MeeseeksCore
import Metrics

/// What the Slack adapter needs from the box: dialogs, by id.
public protocol SlackDialogHost: Sendable {
    func openDialog(id: String, user: String, channel: String?, text: String, transport: [String: String]) async
    /// Feeds an event to a dialog of `user`, after merging `transport` into the dialog's.
    func handle(dialogID: String, user: String, input: DialogInput, transport: [String: String]) async -> SlackDialogAnswer
    /// Approves, or denies with a reason, a job awaiting approval; what to tell the person
    /// (who alone sees it).
    func decide(jobID: Int64, user: String, approve: Bool, reason: String?) async -> String
    /// The live persona, for phrases.
    func persona() -> Persona
}

public enum SlackDialogAnswer: Sendable {
    case handled, notFound, notYours
}

/// Where verified Slack requests go: a box that leads processes them; a front door passes them
/// on to the leader through the database.
public protocol SlackIntake: Sendable {
    /// Takes a verified request (or drops a retried event already seen); answers Slack at once.
    func accept(_ request: SlackRequest) -> SlackService.Acceptance
    /// Whether a request signature is new; false for a replay within the signature window.
    func firstSighting(signature: String, window: Double) -> SignatureSighting
}

/// Whether a request's signature was seen before.
public enum SignatureSighting: Sendable, Equatable {
    case first
    /// Seen within its window: a replay, acknowledged and not acted on.
    case replay
    /// The record could not be kept: neither taken nor acknowledged (Slack retries events).
    case unrecorded
}

/// The Slack surface: carries out inbound requests that were stored before they were acknowledged
/// (an intake such as the box's `DurableSlackIntake` takes them, an inbox processor schedules them
/// here), feeds dialogs, and renders dialog views into the outbox.
public final class SlackService: ChatTransport {
    let host: any SlackDialogHost
    let api: SlackWebAPI
    let outbox: SlackOutbox
    /// Event ids and request signatures already taken (retries and replays).
    let ledger: any EventLedger
    /// Display names for the user IDs in built-ins' answers.
    let directory: SlackDirectory?
    let logger: Logger
    private let serial: SerialByKey

    public init(
        host: any SlackDialogHost, api: SlackWebAPI, outbox: SlackOutbox, ledger: any EventLedger, directory: SlackDirectory? = nil,
        logger: Logger, concurrency: Int = 64
    ) {
        self.ledger = ledger
        self.host = host
        self.api = api
        self.outbox = outbox
        self.directory = directory
        self.logger = logger
        self.serial = SerialByKey(limit: concurrency)
    }

    /// What became of an inbound request, and how to answer Slack.
    public enum Acceptance: Sendable, Equatable {
        case queued, duplicate, ignored, busy

        /// The HTTP answer: 200 unless the intake is full (503, which Slack retries for events).
        public var answer: (HTTPResponse.Status, String) {
            self == .busy ? (.serviceUnavailable, "busy; try again") : (.ok, "")
        }
    }

    /// The signatures seen are kept in the store, so a restart does not reopen the window.
    public static func firstSighting(signature: String, window: Double, ledger: any EventLedger, logger: Logger) -> SignatureSighting {
        let now = Date().timeIntervalSince1970
        do {
            return try ledger.firstSighting(ofEvent: "sig:" + signature, at: now, forgetBefore: now - 2 * window - 60) ? .first : .replay
        } catch {
            // Fail closed: without the record a replay cannot be told from a new request. Not
            // acknowledged either: a request answered 200 and dropped would be lost.
            logger.error("cannot record a Slack request signature; refusing the request", metadata: ["error": "\(error)"])
            return .unrecorded
        }
    }

    /// Schedules one request, in order with the other requests of its dialog (call in arrival
    /// order); the task ends when it has been processed. How the leader carries out a request a
    /// front door passed on: `dialogID` names the dialog a mention opens, so a request carried
    /// out twice opens one dialog.
    public func schedule(_ request: SlackRequest, dialogID: String) -> Task<Void, Never> {
        serial.task(key: request.dialogKey) { await self.process(request, dialogID: dialogID) }
    }

    /// Whether a request is new: a retried event already seen is not (Slack retries when an ack
    /// is slow; a retry is never a new command), nor a payload that is not ours. Event ids are
    /// kept in the store, not in memory: Slack retries for minutes, across a restart too.
    public static func admit(_ request: SlackRequest, ledger: any EventLedger, logger: Logger) -> Acceptance? {
        if case .open(_, _, _, _, let eventID?) = request {
            let now = Date().timeIntervalSince1970
            let fresh: Bool
            do {
                fresh = try ledger.firstSighting(ofEvent: eventID, at: now, forgetBefore: now - 3600)
            } catch {
                // A possible duplicate beats a lost request.
                logger.error("cannot record a Slack event id", metadata: ["event_id": "\(eventID)", "error": "\(error)"])
                fresh = true
            }
            guard fresh else {
                logger.info("duplicate Slack event ignored", metadata: ["event_id": "\(eventID)"])
                return .duplicate
            }
        }
        if case .ignore(let why) = request {
            logger.debug("Slack payload ignored", metadata: ["why": "\(why)"])
            return .ignored
        }
        return nil
    }

    func process(_ request: SlackRequest, dialogID: String?) async {
        switch request {
        case .open(let user, let channel, let thread, let text, _):
            var transport = ["kind": "slack", "channel": channel]
            if let thread { transport["thread"] = thread }
            let id = dialogID ?? ("s" + UUID().uuidString.replacing("-", with: "").lowercased().prefix(20))
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
        case .decide(let user, let jobID, let approve, let reason, let channel):
            let answer = await host.decide(jobID: jobID, user: user, approve: approve, reason: reason)
            guard let channel else { return }
            let payload: JSON = ["user": .string(user), "text": .string(answer)]
            outbox.send(
                OutboxMessage(
                    orderKey: channel, operation: .ephemeral, payload: payload.encoded(), channel: channel, messageKey: nil,
                    createdAt: Date().timeIntervalSince1970))
        case .openDenyModal(_, let jobID, let channel, let trigger):
            _ = await api.call("views.open", ["trigger_id": .string(trigger), "view": renderer.denyModal(jobID: jobID, channel: channel)])
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
        if case .progress = view {
            enqueue(view, in: dialog, operation: .progress)
        } else {
            enqueue(view, in: dialog, operation: .update)
        }
    }

    /// Posts a view. A result whose output does not fit its message is followed, in the same
    /// channel order, by an upload of the whole output as a file in the same thread.
    public func post(_ view: DialogView, in dialog: Dialog) {
        guard case .result(let result) = view, renderer.cutsOutput(result.report),
            let channel = dialog.transport["channel"]
        else {
            enqueue(view, in: dialog, operation: .post)
            return
        }
        // Remembered under a key, so an upload outside any thread can join the result's thread.
        let resultKey = "result:\(dialog.id)"
        enqueue(view, in: dialog, operation: .post, messageKey: resultKey)
        let thread = dialog.transport["thread"]
        let upload = FileUpload(wholeOutputOf: result.report, thread: thread, threadOf: thread == nil ? resultKey : nil)
        outbox.send(
            OutboxMessage(
                orderKey: channel, operation: .upload, payload: upload.payload(), channel: channel, messageKey: upload.key,
                createdAt: Date().timeIntervalSince1970))
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

    private func enqueue(_ view: DialogView, in dialog: Dialog, operation: OutboxMessage.Operation, messageKey: String? = nil) {
        guard let channel = dialog.transport["channel"] else { return }
        let message = renderer.render(named(view))
        var payload: JSON = ["text": .string(message.text), "blocks": .array(message.blocks)]
        if let thread = dialog.transport["thread"] { payload["thread_ts"] = .string(thread) }
        outbox.send(
            OutboxMessage(
                orderKey: channel, operation: operation, payload: payload.encoded(), channel: channel,
                messageKey: operation == .update || operation == .progress ? "dialog:\(dialog.id)" : messageKey,
                createdAt: Date().timeIntervalSince1970))
    }
}

extension SlackRequest {
    /// The dialog a request belongs to: its requests are processed in order. A new dialog has
    /// none yet and runs on its own.
    var dialogKey: String? {
        switch self {
        case .event(_, let dialog, _, _, _), .openCodeModal(_, let dialog, _, _): dialog
        case .open, .ignore, .decide, .openDenyModal: nil
        }
    }
}
