import MeeseeksConfig

/// Dialog views as plain text, for `meeseeks chat` and logs. Choices are numbered so a person can
/// answer with a number.
public struct TextRenderer: Sendable {
    public let phrases: PhrasePicker

    public init(phrases: PhrasePicker) {
        self.phrases = phrases
    }

    public func render(_ view: DialogView) -> String {
        switch view {
        case .menu(let menu):
            guard !menu.commands.isEmpty else {
                return "\(phrases.phrase(.greeting))\nThere is nothing you may run yet; ask an admin for a role."
            }
            let lines = menu.commands.enumerated().map { "  \($0.offset + 1). \($0.element.name) — \($0.element.summary)" }
            return "\(phrases.phrase(.greeting)) What can I do for you?\n" + lines.joined(separator: "\n")
        case .prompt(let prompt):
            var text = prompt.error.map { "✗ \($0)\n" } ?? ""
            text += prompt.question
            if !prompt.choices.isEmpty {
                text += "\n" + prompt.choices.enumerated().map { "  \($0.offset + 1). \($0.element)" }.joined(separator: "\n")
            } else if prompt.kind == .bool {
                text += " (yes/no)"
            }
            if let value = prompt.defaultValue {
                text += "\n  (enter for the default: \(value))"
            } else if !prompt.required {
                text += "\n  (optional: enter to skip)"
            }
            return text
        case .confirm(let confirm):
            var text = confirm.text ?? "\(phrases.phrase(.confirm)) Run \(confirm.command)?"
            if !confirm.arguments.isEmpty { text += "\n  " + confirm.arguments.joined(separator: "  ") }
            text += "\n  on: \(confirm.targets.joined(separator: ", "))"
            return text + (confirm.destructive ? "\n  ⚠ this command is marked destructive" : "") + "\n  [yes/no]"
        case .challenge(let challenge):
            let error = challenge.error.map { "✗ \($0)\n" } ?? ""
            return error + "\(challenge.command) needs a second factor: enter the 6-digit code from your authenticator app."
        case .accepted(let accepted) where accepted.approval != nil:
            return "job #\(accepted.jobID) waits for approval: \(accepted.approval?.summary ?? "")"
        case .accepted(let accepted):
            return "\(phrases.phrase(.accepted)) (job #\(accepted.jobID))"
        case .approvalRequest(let request):
            var lines = ["job #\(request.jobID): \(request.requester) asks to run \(request.command); it needs \(request.need.summary)"]
            if !request.arguments.isEmpty { lines.append("  arguments: \(request.arguments.joined(separator: " "))") }
            lines.append("  on: \(request.targets.isEmpty ? "(any matching agent)" : request.targets.joined(separator: ", "))")
            if !request.approvedBy.isEmpty { lines.append("  approved by: \(request.approvedBy.joined(separator: ", "))") }
            lines.append(request.closed ?? "  meeseeks approve \(request.jobID)  |  meeseeks deny \(request.jobID) --reason TEXT")
            return lines.joined(separator: "\n")
        case .result(let result):
            return resultText(result.report, user: result.user)
        case .progress(let progress) where progress.ended != nil:
            return
                "job #\(progress.jobID) (\(progress.command)) \(progress.ended?.rawValue ?? "") after \(DurationText.format(progress.elapsed))"
        case .progress(let progress):
            var lines = ["⏳ job #\(progress.jobID) (\(progress.command)) running for \(DurationText.format(progress.elapsed))"]
            lines += progress.agents.map { "  \($0.agent): \($0.status.rawValue)" }
            if !progress.tail.isEmpty {
                lines += progress.tail.split(separator: "\n", omittingEmptySubsequences: false).map { "    \($0)" }
            }
            return lines.joined(separator: "\n")
        case .notice(let notice):
            switch notice.kind {
            case .refused: return "\(phrases.phrase(.refused)) \(notice.text)"
            case .cancelled: return phrases.phrase(.cancelled)
            default: return notice.text
            }
        case .help(let help):
            var lines = ["Commands you may run:"]
            lines += help.commands.isEmpty ? ["  (none)"] : help.commands.map { "  \($0.name) — \($0.summary)" }
            lines.append("Built-ins:")
            lines += help.builtins.map { "  \($0.name) — \($0.summary)" }
            lines.append("Type a whole request to skip the questions: restart service=nginx -l env=stg")
            return lines.joined(separator: "\n")
        }
    }

    func resultText(_ report: JobReport, user: String) -> String {
        var text: String
        switch report.status {
        case .succeeded: text = "@\(user) \(phrases.phrase(.done)) (job #\(report.jobID))"
        case .cancelled: text = "@\(user) job #\(report.jobID) was cancelled."
        default:
            text = "@\(user) \(phrases.phrase(.failed)) job #\(report.jobID) \(report.status.rawValue)"
            if let reason = report.reason { text += ": \(reason)" }
        }
        for agent in report.perAgent {
            text += "\n  \(agent.agent): \(agent.status.rawValue)\(agent.exitCode.map { " (exit \($0))" } ?? "")"
            if !agent.output.isEmpty { text += "\n" + indent(agent.output) }
        }
        if report.perAgent.isEmpty, !report.output.isEmpty {
            if report.truncated { text += "\n  (the start is cut; `meeseeks logs \(report.jobID)` prints it all)" }
            text += "\n" + indent(report.output)
        }
        return text
    }

    func indent(_ output: String) -> String {
        let trimmed = output.hasSuffix("\n") ? String(output.dropLast()) : output
        return trimmed.split(separator: "\n", omittingEmptySubsequences: false).map { "    \($0)" }.joined(separator: "\n")
    }
}
