import MeeseeksConfig
public import MeeseeksCore

/// A message for Slack: Block Kit blocks and the notification text.
public struct SlackMessage: Hashable, Sendable {
    public var text: String
    public var blocks: [JSON]
}

/// Renders dialog views as Block Kit within Slack's limits: long text is cut with a note, long
/// menus become selects (with option groups past 100 entries).
///
/// Interactive elements carry the dialog and step in their `block_id` (`mx:DIALOG:STEP:N`, new on
/// every update) and the event in their `action_id`.
public struct BlockKitRenderer: Sendable {
    public let phrases: PhrasePicker

    public init(phrases: PhrasePicker) {
        self.phrases = phrases
    }

    static let maxButtons = 5

    public func render(_ view: DialogView) -> SlackMessage {
        switch view {
        case .menu(let menu): renderMenu(menu)
        case .prompt(let prompt): renderPrompt(prompt)
        case .confirm(let confirm): renderConfirm(confirm)
        case .challenge(let challenge): renderChallenge(challenge)
        case .accepted(let accepted) where accepted.approval != nil:
            simple(
                "Job *#\(accepted.jobID)* (`\(escape(accepted.command))`) waits for approval: \(escape(accepted.approval?.summary ?? "")). I'll tell you here what they decide."
            )
        case .accepted(let accepted):
            simple(
                "\(phrases.phrase(.accepted)) Job *#\(accepted.jobID)* (`\(escape(accepted.command))`) is on its way to \(escape(accepted.targets.joined(separator: ", ")))."
            )
        case .approvalRequest(let request): renderApprovalRequest(request)
        case .result(let result): renderResult(result)
        case .progress(let progress): renderProgress(progress)
        case .notice(let notice):
            switch notice.kind {
            case .refused: simple("\(phrases.phrase(.refused)) \(escape(notice.text))")
            case .cancelled: simple(phrases.phrase(.cancelled))
            default: simple(escape(notice.text), code: notice.kind == .info && notice.text.contains("\n"))
            }
        case .help(let help): renderHelp(help)
        }
    }

    // MARK: Views

    /// A running job, edited in place every few seconds: how long it has run, and the end of its
    /// output (or, for a broadcast, one line per agent).
    func renderProgress(_ progress: DialogView.Progress) -> SlackMessage {
        if let ended = progress.ended {
            let mark = ended == .succeeded ? "✓" : "✗"
            let line =
                "\(mark) Job *#\(progress.jobID)* (`\(escape(progress.command))`) \(ended.rawValue.replacing("_", with: " ")) after \(DurationText.format(progress.elapsed))."
            return SlackMessage(text: "Job #\(progress.jobID) \(ended.rawValue)", blocks: [section(line)])
        }
        let head =
            "⏳ Job *#\(progress.jobID)* (`\(escape(progress.command))`) has been running for \(DurationText.format(progress.elapsed))."
        var blocks = [section(head)]
        if !progress.agents.isEmpty {
            let lines = progress.agents.prefix(40).map { "• \(escape($0.agent)): \($0.status.rawValue)" }
            let more = progress.agents.count > 40 ? "\n… and \(progress.agents.count - 40) more" : ""
            blocks.append(section(String((lines.joined(separator: "\n") + more).prefix(SlackLimits.sectionText))))
        } else if !progress.tail.isEmpty {
            let body = String(escape(progress.tail).suffix(SlackLimits.sectionText - 8))
            blocks.append(section("```\(body)```"))
        }
        return SlackMessage(text: "Job #\(progress.jobID) running for \(DurationText.format(progress.elapsed))", blocks: blocks)
    }

    func renderMenu(_ menu: DialogView.Menu) -> SlackMessage {
        let id = BlockID(dialog: menu.dialogID, step: menu.step)
        let greeting = phrases.phrase(.greeting)
        var blocks: [JSON] = [section("\(greeting) What can I do for you, <@\(menu.user)>?")]
        if menu.commands.isEmpty {
            blocks = [section("\(greeting) There is nothing you may run yet; ask an admin for a role.")]
            return SlackMessage(text: greeting, blocks: blocks)
        }
        if menu.commands.count <= Self.maxButtons {
            for (n, command) in menu.commands.enumerated() {
                var block = section("*\(escape(command.name))* — \(escape(command.summary))")
                block["block_id"] = .string(id.with(n))
                block["accessory"] = button(cut(command.name, SlackLimits.buttonText), action: "pick", value: command.name)
                blocks.append(block)
            }
        } else {
            var block = section("Pick a command (\(menu.commands.count) available):")
            block["block_id"] = .string(id.with(0))
            block["accessory"] = select(
                placeholder: "Choose a command", action: "pick",
                options: menu.commands.map { (cut($0.name, SlackLimits.optionText), $0.name, $0.summary) })
            blocks.append(block)
        }
        blocks.append(actions(id.with(99), [button("Cancel", action: "cancel", value: "cancel")]))
        return SlackMessage(text: greeting, blocks: blocks)
    }

    func renderPrompt(_ prompt: DialogView.Prompt) -> SlackMessage {
        let id = BlockID(dialog: prompt.dialogID, step: prompt.step)
        var blocks: [JSON] = []
        if let error = prompt.error { blocks.append(section(":warning: \(escape(error))")) }
        var extra: [JSON] = []
        if let value = prompt.defaultValue {
            extra.append(button(cut("Use default (\(value))", SlackLimits.buttonText), action: "skip", value: "skip"))
        } else if !prompt.required {
            extra.append(button("Skip", action: "skip", value: "skip"))
        }
        extra.append(button("Cancel", action: "cancel", value: "cancel"))
        let question = "*\(escape(prompt.command))* · \(escape(prompt.question))"
        let choices = prompt.kind == .bool ? ["yes", "no"] : prompt.choices
        if !choices.isEmpty, choices.count <= Self.maxButtons {
            blocks.append(section(question))
            blocks.append(
                actions(
                    id.with(0),
                    choices.enumerated().map { button(cut($1, SlackLimits.buttonText), action: "answer_\($0)", value: $1) } + extra))
        } else if !choices.isEmpty {
            var block = section(question)
            block["block_id"] = .string(id.with(0))
            block["accessory"] = select(
                placeholder: "Choose", action: "answer", options: choices.map { (cut($0, SlackLimits.optionText), $0, nil) })
            blocks.append(block)
            blocks.append(actions(id.with(1), extra))
        } else {
            var input: JSON = [
                "type": "plain_text_input", "action_id": "answer",
                "placeholder": plain(prompt.kind == .int ? "A whole number, then Enter" : "Type, then press Enter"),
                "max_length": .number(Double(min(ArgumentSpecLimits.value, SlackLimits.inputLength))),
            ]
            if prompt.kind == .text, prompt.question.count > 60 { input["multiline"] = false }
            blocks.append([
                "type": "input", "block_id": .string(id.with(0)), "dispatch_action": true,
                "label": plain(cut(prompt.question, SlackLimits.inputLabel)), "element": input,
                "hint": plain(prompt.secret ? "Hidden from the channel's history: only the job sees it." : "Press Enter to send."),
            ])
            blocks.append(actions(id.with(1), extra))
        }
        return SlackMessage(text: cut(prompt.question, 200), blocks: blocks)
    }

    func renderConfirm(_ confirm: DialogView.Confirmation) -> SlackMessage {
        let id = BlockID(dialog: confirm.dialogID, step: confirm.step)
        let question = confirm.text.map(escape) ?? "\(phrases.phrase(.confirm)) Run *\(escape(confirm.command))*?"
        var block = section(question)
        let fields = (confirm.arguments.prefix(9).map { "`\(escape($0))`" } + ["*on* \(escape(confirm.targets.joined(separator: ", ")))"])
        block["fields"] = .array(fields.map { ["type": "mrkdwn", "text": .string(cut($0, SlackLimits.fieldText))] })
        var yes = button("Yes", action: "confirm_yes", value: "yes")
        yes["style"] = confirm.destructive ? "danger" : "primary"
        if confirm.destructive {
            yes["confirm"] = [
                "title": plain("Really?"),
                "text": ["type": "mrkdwn", "text": .string(cut("*\(escape(confirm.command))* is marked destructive.", 300))],
                "confirm": plain("Run it"), "deny": plain("Stop"), "style": "danger",
            ]
        }
        let blocks = [block, actions(id.with(0), [yes, button("No", action: "confirm_no", value: "no")])]
        return SlackMessage(text: cut(confirm.text ?? "Run \(confirm.command)?", 200), blocks: blocks)
    }

    func renderChallenge(_ challenge: DialogView.Challenge) -> SlackMessage {
        let id = BlockID(dialog: challenge.dialogID, step: challenge.step)
        var blocks: [JSON] = []
        if let error = challenge.error { blocks.append(section(":no_entry: \(escape(error))")) }
        blocks.append(
            section(
                ":lock: *\(escape(challenge.command))* needs a second factor. I opened a window for your code; it never appears in the channel."
            ))
        blocks.append(
            actions(
                id.with(0), [button("Enter code", action: "code_open", value: "code"), button("Cancel", action: "cancel", value: "cancel")])
        )
        return SlackMessage(text: "A 2FA code is needed", blocks: blocks)
    }

    /// The modal that collects a 2FA code, tied to the dialog's step.
    public func codeModal(_ challenge: DialogView.Challenge) -> JSON {
        var blocks: [JSON] = []
        if let error = challenge.error { blocks.append(section(":no_entry: \(escape(error))")) }
        blocks.append([
            "type": "input", "block_id": "code",
            "label": plain("Code from your authenticator app"),
            "element": ["type": "plain_text_input", "action_id": "code", "min_length": 6, "max_length": 8, "placeholder": plain("123456")],
        ])
        return [
            "type": "modal", "callback_id": "meeseeks_code",
            "private_metadata": .string(BlockID(dialog: challenge.dialogID, step: challenge.step).with(0)),
            "title": plain("Second factor"), "submit": plain("Verify"), "close": plain("Cancel"),
            "blocks": .array(blocks),
        ]
    }

    func renderResult(_ result: DialogView.Result) -> SlackMessage {
        let report = result.report
        let headline: String
        switch report.status {
        case .succeeded: headline = "<@\(result.user)> \(phrases.phrase(.done)) Job *#\(report.jobID)* (`\(escape(report.command))`)"
        case .cancelled: headline = "<@\(result.user)> job *#\(report.jobID)* (`\(escape(report.command))`) was cancelled."
        default:
            headline =
                "<@\(result.user)> \(phrases.phrase(.failed)) Job *#\(report.jobID)* (`\(escape(report.command))`) \(report.status.rawValue)\(report.reason.map { ": \(escape($0))" } ?? "")"
        }
        var blocks: [JSON] = [section(headline)]
        if report.perAgent.isEmpty {
            if !report.output.isEmpty || report.truncated {
                blocks.append(codeSection(report.output, cutNote: report.truncated, jobID: report.jobID))
            }
        } else {
            // One section per agent; past the block limit, a summary line.
            let room = SlackLimits.messageBlocks - 2
            for agent in report.perAgent.prefix(room) {
                let status = agent.status == .succeeded ? ":white_check_mark:" : ":x:"
                var text = "\(status) *\(escape(agent.agent))* \(agent.status.rawValue)\(agent.exitCode.map { " (exit \($0))" } ?? "")"
                if !agent.output.isEmpty { text += "\n```\(escape(agent.output))```" }
                blocks.append(section(cut(text, SlackLimits.sectionText)))
            }
            let succeeded = report.perAgent.filter { $0.status == .succeeded }.count
            blocks.append(context("\(succeeded) of \(report.perAgent.count) agents succeeded. `job \(report.jobID)` shows each one."))
        }
        return SlackMessage(text: cut(headline, 300), blocks: blocks)
    }

    func renderHelp(_ help: DialogView.Help) -> SlackMessage {
        let commands =
            help.commands.isEmpty
            ? "_none yet_" : help.commands.map { "• *\(escape($0.name))* — \(escape($0.summary))" }.joined(separator: "\n")
        let builtins = help.builtins.map { "• `\($0.name)` — \(escape($0.summary))" }.joined(separator: "\n")
        return SlackMessage(
            text: "Help",
            blocks: [
                section(cut("*Commands you may run*\n\(commands)", SlackLimits.sectionText)),
                section(cut("*Built-ins*\n\(builtins)", SlackLimits.sectionText)),
                context("Type a whole request to skip the questions: `restart service=nginx -l env=stg`"),
            ])
    }

    // MARK: Pieces

    func simple(_ text: String, code: Bool = false) -> SlackMessage {
        if code { return SlackMessage(text: cut(text, 200), blocks: [codeSection(text, cutNote: false, jobID: nil)]) }
        return SlackMessage(text: cut(text, SlackLimits.messageText), blocks: [section(cut(text, SlackLimits.sectionText))])
    }

    /// Characters of output a code section shows without a note (the fences and a margin aside).
    static let codeRoom = SlackLimits.sectionText - 6 - 60

    /// Whether a result message shows only the end of its job's output; then the whole output
    /// follows as a file in the same thread. A broadcast shows each agent's end and attaches nothing.
    public func cutsOutput(_ report: JobReport) -> Bool {
        report.perAgent.isEmpty && (report.truncated || escape(report.output).count > Self.codeRoom)
    }

    /// Output in a code block, its start cut to fit with a note on how to read it all: for a job,
    /// the file that follows (see `cutsOutput`) and `meeseeks logs`.
    func codeSection(_ output: String, cutNote: Bool, jobID: Int64?) -> JSON {
        var body = escape(output)
        var note = ""
        if cutNote || body.count > Self.codeRoom {
            note =
                jobID.map { "_(output cut: the whole of it follows as a file; `meeseeks logs \($0)` prints it all)_\n" }
                ?? "_(output cut; `meeseeks logs ID` prints it all)_\n"
            body = String(body.suffix(SlackLimits.sectionText - 6 - note.count))
        }
        if body.isEmpty { body = " " }
        return section(note + "```" + body + "```")
    }

    func section(_ text: String) -> JSON {
        ["type": "section", "text": ["type": "mrkdwn", "text": .string(cut(text, SlackLimits.sectionText))]]
    }

    func context(_ text: String) -> JSON {
        ["type": "context", "elements": [["type": "mrkdwn", "text": .string(cut(text, SlackLimits.sectionText))]]]
    }

    func actions(_ blockID: String, _ elements: [JSON]) -> JSON {
        ["type": "actions", "block_id": .string(blockID), "elements": .array(elements)]
    }

    func button(_ text: String, action: String, value: String) -> JSON {
        [
            "type": "button", "text": plain(cut(text, SlackLimits.buttonText)), "action_id": .string(action),
            "value": .string(cut(value, SlackLimits.buttonValue)),
        ]
    }

    func select(placeholder: String, action: String, options: [(text: String, value: String, description: String?)]) -> JSON {
        func option(_ o: (text: String, value: String, description: String?)) -> JSON {
            var option: JSON = ["text": plain(o.text), "value": .string(cut(o.value, SlackLimits.optionValue))]
            if let d = o.description, !d.isEmpty { option["description"] = plain(cut(d, SlackLimits.optionDescription)) }
            return option
        }
        var element: JSON = ["type": "static_select", "action_id": .string(action), "placeholder": plain(placeholder)]
        if options.count <= SlackLimits.selectOptions {
            element["options"] = .array(options.map(option))
        } else {
            let pages = stride(
                from: 0, to: min(options.count, SlackLimits.selectOptions * SlackLimits.optionGroups), by: SlackLimits.selectOptions)
            element["option_groups"] = .array(
                pages.map { start in
                    let page = options[start..<min(options.count, start + SlackLimits.selectOptions)]
                    let label = "\(page.first!.text.prefix(30)) … \(page.last!.text.prefix(30))"
                    return ["label": plain(cut(label, SlackLimits.optionText)), "options": .array(page.map(option))]
                })
        }
        return element
    }

    func plain(_ text: String) -> JSON {
        ["type": "plain_text", "text": .string(text), "emoji": true]
    }

    /// Slack's three escapes for mrkdwn text.
    func escape(_ text: String) -> String {
        text.replacing("&", with: "&amp;").replacing("<", with: "&lt;").replacing(">", with: "&gt;")
    }

    func cut(_ text: String, _ limit: Int) -> String {
        text.count <= limit ? text : String(text.prefix(limit - 1)) + "…"
    }
}

/// Where an interaction belongs: `mx:DIALOG:STEP:N`.
public struct BlockID: Hashable, Sendable {
    public var dialog: String
    public var step: Int

    public init(dialog: String, step: Int) {
        self.dialog = dialog
        self.step = step
    }

    func with(_ n: Int) -> String { "mx:\(dialog):\(step):\(n)" }

    public init?(parsing text: String) {
        let parts = text.split(separator: ":")
        guard parts.count == 4, parts[0] == "mx", let step = Int(parts[2]) else { return nil }
        self.init(dialog: String(parts[1]), step: step)
    }
}

enum ArgumentSpecLimits {
    static let value = 2000
}
