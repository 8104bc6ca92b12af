/// Renders dialog views on one surface (Slack, the terminal chat's mailbox). Calls must not block:
/// transports queue what they send, so a slow chat service never holds up a dialog.
public protocol ChatTransport: Sendable {
    /// Replaces the dialog's message with `view`.
    func show(_ view: DialogView, in dialog: Dialog)
    /// Posts `view` as a new message of the dialog.
    func post(_ view: DialogView, in dialog: Dialog)
}
