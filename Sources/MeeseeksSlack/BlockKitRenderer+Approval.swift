import Foundation
import MeeseeksConfig
public import MeeseeksCore

/// Four-eyes approval in Slack: the request approvers see (Approve / Deny while it is open), and
/// the modal that asks a denier for the reason.
extension BlockKitRenderer {
    /// The `block_id` of an approval request's buttons: `ma:JOB`.
    static func approvalBlockID(_ jobID: Int64) -> String { "ma:\(jobID)" }

    func renderApprovalRequest(_ request: DialogView.ApprovalRequest) -> SlackMessage {
        let head =
            "<@\(escape(request.requester))> asks to run `\(escape(request.command))` (job *#\(request.jobID)*); it needs \(escape(request.need.summary))."
        var details = ["*Targets:* \(escape(request.targets.isEmpty ? "(any matching agent)" : request.targets.joined(separator: ", ")))"]
        if !request.arguments.isEmpty { details.append("*Arguments:* `\(escape(request.arguments.joined(separator: " ")))`") }
        details.append("*Requested:* \(Self.slackDate(request.requestedAt)) · *expires:* \(Self.slackDate(request.expiresAt))")
        if !request.approvedBy.isEmpty {
            details.append("*Approved by:* \(request.approvedBy.map { "<@\(escape($0))>" }.joined(separator: ", "))")
        }
        var blocks = [section(head), section(details.joined(separator: "\n"))]
        if let closed = request.closed {
            blocks.append(context(escape(closed)))
        } else {
            var approve = button("Approve", action: "approve", value: String(request.jobID))
            approve["style"] = "primary"
            var deny = button("Deny", action: "deny", value: String(request.jobID))
            deny["style"] = "danger"
            blocks.append(actions(Self.approvalBlockID(request.jobID), [approve, deny]))
        }
        return SlackMessage(text: "Approval needed: \(request.command) (job #\(request.jobID)) by \(request.requester)", blocks: blocks)
    }

    /// Asks the denier why; `private_metadata` carries the job and the channel of the request.
    public func denyModal(jobID: Int64, channel: String?) -> JSON {
        [
            "type": "modal", "callback_id": "meeseeks_deny",
            "private_metadata": .string("\(jobID)|\(channel ?? "")"),
            "title": plain("Deny job #\(jobID)"), "submit": plain("Deny"), "close": plain("Cancel"),
            "blocks": [
                [
                    "type": "input", "block_id": "reason",
                    "label": plain("Why? The requester sees this."),
                    "element": [
                        "type": "plain_text_input", "action_id": "reason", "multiline": true, "min_length": 1,
                        "max_length": .number(Double(ApprovalRules.maxReason)),
                    ],
                ]
            ],
        ]
    }

    /// Slack shows the date in each reader's own time zone.
    static func slackDate(_ time: Double) -> String {
        let seconds = Int64(max(0, min(time, 4_102_444_800)))
        return "<!date^\(seconds)^{date_short_pretty} {time}|\(Date(timeIntervalSince1970: Double(seconds)).formatted(.iso8601))>"
    }
}
