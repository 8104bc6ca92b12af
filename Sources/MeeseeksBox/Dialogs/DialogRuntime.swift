import Logging
import MeeseeksCore

/// Where dialogs live between events: it loads and saves them (sealed), runs the interpreter
/// on one event, shows views on the dialog's surface, and finds dialogs left idle.
struct DialogRuntime {
    let store: any DialogStore
    let logger: Logger
    let clock: @Sendable () -> Double
    /// Surfaces by kind: `slack`, `api`.
    var transports: [String: any ChatTransport] = [:]

    init(store: any DialogStore, logger: Logger, clock: @escaping @Sendable () -> Double) {
        self.store = store
        self.logger = logger
        self.clock = clock
    }

    /// The stored dialog, or nil (logged) when it is gone or cannot be read.
    func load(_ id: String) -> Dialog? {
        do {
            return try store.dialog(id)
        } catch {
            logger.error("cannot read a dialog", metadata: ["dialog": "\(id)", "error": "\(error)"])
            return nil
        }
    }

    /// Saves a dialog; false (logged) when the store failed, so the caller can tell the user.
    @discardableResult
    func save(_ dialog: Dialog) -> Bool {
        do {
            try store.save(dialog)
            return true
        } catch {
            logger.error("cannot save a dialog", metadata: ["dialog": "\(dialog.id)", "error": "\(error)"])
            return false
        }
    }

    /// Runs the interpreter on one event and keeps the result. A dialog whose new state cannot be
    /// kept ends here, with a notice instead of effects (nothing is submitted on a state that
    /// would be lost).
    func interpret(_ dialog: inout Dialog, _ input: DialogInput, in world: World) -> [DialogEffect] {
        let before = dialog
        let effects = Conversation.handle(&dialog, input, in: world)
        guard save(dialog) else {
            dialog = before
            return [
                .post(.notice(.init(.invalid, "I couldn't keep track of this conversation (the box's store failed); please start again.")))
            ]
        }
        return effects
    }

    /// Shows a view on the dialog's surface (replacing its message, or as a new one).
    func render(_ view: DialogView, in dialog: Dialog, replacing: Bool) {
        guard let transport = transports[dialog.transport["kind"] ?? "api"] else { return }
        if replacing { transport.show(view, in: dialog) } else { transport.post(view, in: dialog) }
    }

    /// Dialogs waiting for their user for longer than `timeout` seconds.
    func idle(timeout: Double) -> [String] {
        do {
            return try store.idleDialogs(before: clock() - timeout, limit: 500)
        } catch {
            logger.error("cannot list idle dialogs", metadata: ["error": "\(error)"])
            return []
        }
    }
}
