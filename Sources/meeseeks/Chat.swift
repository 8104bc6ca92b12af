import ArgumentParser
import Foundation
import MeeseeksAPI
import MeeseeksClient
import MeeseeksConfig
import MeeseeksCore

extension Meeseeks {
    struct Chat: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Talk to a running box in the terminal: the same dialog as Slack.",
            discussion: """
                Answer with a number, a value, yes/no, or 'cancel'. Text after the options opens the dialog \
                with it, as a mention would: meeseeks chat --as U01SRE0001 restart service=nginx
                """)

        @OptionGroup var client: ClientOptions

        @Argument(parsing: .captureForPassthrough, help: "What to say first (a command, a whole request, or a built-in).")
        var words: [String] = []

        func validate() throws {
            if client.user == nil, ProcessInfo.processInfo.environment["MEESEEKS_USER"] == nil {
                throw ValidationError("say who you are with --as USER_ID (a Slack user ID such as U01ABCDEF)")
            }
        }

        func run() async throws {
            let client = try client.client()
            await showApprovals(client)
            var state = try await clientCall { try await client.openDialog(text: words.joined(separator: " ")) }
            var session = ChatSession()
            session.show(state.messages)
            while true {
                if state.finished {
                    // A result may still be on its way after the dialog's last interactive step.
                    return
                }
                guard let current = session.interactive else {
                    state = try await clientCall { try await client.messages(of: state.id, after: session.lastSeq, wait: 25) }
                    session.show(state.messages)
                    continue
                }
                FileOutput.standardOutput.write("> ")
                guard let line = readLine(strippingNewline: true) else {
                    // Best effort on the way out: the dialog expires on its own if this is lost.
                    _ = try? await client.send(DialogInput(.cancelled, step: current.step), to: state.id)
                    return
                }
                guard let event = session.event(for: line, answering: current.view) else {
                    FileOutput.standardOutput.write("Please answer with one of the numbers, a value, or 'cancel'.\n")
                    continue
                }
                state = try await clientCall { try await client.send(DialogInput(event, step: current.step), to: state.id) }
                session.show(state.messages)
            }
        }
    }
}

extension Meeseeks.Chat {
    /// Jobs waiting for this person's approval, before the dialog: the terminal's Approve / Deny.
    func showApprovals(_ client: BoxClient) async {
        do {
            let approvals = try await client.approvals()
            guard !approvals.isEmpty else { return }
            FileOutput.standardOutput.write(
                "Waiting for your approval:\n\(ApprovalText.list(approvals, now: Date().timeIntervalSince1970))\n\n")
        } catch {
            // The dialog still works without the list (an older box, a database out of reach).
            FileOutput.standardError.write("meeseeks: cannot list the jobs waiting for your approval: \(error)\n")
        }
    }
}

/// The client side of a terminal dialog: prints messages and turns typed lines into events.
struct ChatSession {
    var lastSeq = 0
    var interactive: (view: DialogView, step: Int)?

    mutating func show(_ messages: [API.Message]) {
        for message in messages where message.seq > lastSeq {
            lastSeq = message.seq
            FileOutput.standardOutput.write(message.text + "\n")
            if let interaction = message.view.interaction {
                interactive = (message.view, interaction.step)
            } else if message.replace {
                interactive = nil
            }
        }
    }

    func event(for line: String, answering view: DialogView) -> DialogEvent? {
        let text = line.trimmingCharacters(in: .whitespaces)
        if ["cancel", "quit", "q"].contains(text.lowercased()) { return .cancelled }
        switch view {
        case .menu(let menu):
            if let n = Int(text), (1...menu.commands.count).contains(n) { return .picked(command: menu.commands[n - 1].name) }
            return text.isEmpty ? nil : .picked(command: text)
        case .prompt(let prompt):
            if text.isEmpty { return .skipped }
            if !prompt.choices.isEmpty, let n = Int(text), (1...prompt.choices.count).contains(n) {
                return .answered(value: prompt.choices[n - 1])
            }
            return .answered(value: prompt.kind == .text ? line : text)
        case .confirm:
            switch text.lowercased() {
            case "y", "yes": return .confirmed(true)
            case "n", "no": return .confirmed(false)
            default: return nil
            }
        case .challenge:
            return text.isEmpty ? nil : .codeEntered(text)
        default:
            return nil
        }
    }
}
