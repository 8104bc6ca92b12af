import MeeseeksAPI
import MeeseeksCore
import MeeseeksHTTP
import Synchronization

/// The transport of dialogs held over the API (`meeseeks chat`): messages are kept in memory, in
/// order, for the client to fetch.
public final class APIMailbox: ChatTransport {
    private struct Mailboxes {
        var messages: [String: [API.Message]] = [:]
        var order: [String] = []
    }

    private let state = Mutex(Mailboxes())
    /// Dialogs kept; the oldest are dropped beyond this.
    let capacity = 2000
    /// Messages kept per dialog; the oldest are dropped beyond this (a job's progress could
    /// otherwise grow one dialog without bound).
    let perDialog = 500
    let render: @Sendable (DialogView) -> String
    /// Wakes clients waiting for a dialog's next message.
    public let changes = ChangeSignal<String>()

    public init(render: @escaping @Sendable (DialogView) -> String) {
        self.render = render
    }

    public func show(_ view: DialogView, in dialog: Dialog) { append(view, replace: true, to: dialog.id) }
    public func post(_ view: DialogView, in dialog: Dialog) { append(view, replace: false, to: dialog.id) }

    private func append(_ view: DialogView, replace: Bool, to id: String) {
        let text = render(view)
        state.withLock { box in
            if box.messages[id] == nil {
                box.order.append(id)
                if box.order.count > capacity { box.messages[box.order.removeFirst()] = nil }
            }
            let seq = (box.messages[id]?.last?.seq ?? 0) + 1
            box.messages[id, default: []].append(API.Message(seq: seq, replace: replace, view: view, text: text))
            if let count = box.messages[id]?.count, count > perDialog { box.messages[id]?.removeFirst(count - perDialog) }
        }
        changes.changed(id)
    }

    /// Messages of dialog `id` after `seq`.
    public func messages(of id: String, after seq: Int) -> [API.Message] {
        state.withLock { $0.messages[id]?.filter { $0.seq > seq } ?? [] }
    }
}
