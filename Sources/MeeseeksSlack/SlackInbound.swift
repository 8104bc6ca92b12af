import Foundation
public import MeeseeksCore

/// What an inbound Slack payload asks for, independent of HTTP or Socket Mode.
public enum SlackRequest: Hashable, Sendable, Codable {
    /// A mention, DM or slash command: open a dialog with the text.
    case open(user: String, channel: String, thread: String?, text: String, eventID: String?)
    /// A click, selection or input in a dialog message.
    case event(user: String, dialog: String, input: DialogInput, channel: String?, trigger: String?)
    /// "Enter code": open the code modal for the dialog's step.
    case openCodeModal(user: String, dialog: String, step: Int, trigger: String)
    /// Approve, or deny with a reason, a job awaiting approval (the approval request's buttons).
    case decide(user: String, jobID: Int64, approve: Bool, reason: String?, channel: String?)
    /// "Deny": open the modal asking why.
    case openDenyModal(user: String, jobID: Int64, channel: String?, trigger: String)
    /// Nothing to do (our own messages, edits, unknown types).
    case ignore(String)
}

/// Reads Slack's three payload families into `SlackRequest`s.
public enum SlackInbound {
    /// An Events API body (HTTP) or an `events_api` envelope's payload (Socket Mode).
    public static func event(_ body: JSON) -> SlackRequest {
        guard body["type"]?.string == "event_callback", let event = body["event"] else {
            return .ignore("not an event_callback: \(body["type"]?.string ?? "?")")
        }
        let eventID = body["event_id"]?.string
        switch event["type"]?.string {
        case "app_mention":
            guard let user = event["user"]?.string, let channel = event["channel"]?.string else { return .ignore("mention without user") }
            if event["bot_id"] != nil { return .ignore("from a bot") }
            return .open(
                user: user, channel: channel, thread: event["thread_ts"]?.string ?? event["ts"]?.string,
                text: text(afterMention: event["text"]?.string ?? ""), eventID: eventID)
        case "message":
            guard event["channel_type"]?.string == "im", event["subtype"] == nil, event["bot_id"] == nil,
                let user = event["user"]?.string, let channel = event["channel"]?.string
            else { return .ignore("not a user's direct message") }
            return .open(
                user: user, channel: channel, thread: event["thread_ts"]?.string,
                text: text(afterMention: event["text"]?.string ?? ""), eventID: eventID)
        default:
            return .ignore("event type \(event["type"]?.string ?? "?")")
        }
    }

    /// A slash command's form fields.
    public static func command(_ form: [String: String]) -> SlackRequest {
        guard let user = form["user_id"], let channel = form["channel_id"] else { return .ignore("slash command without user") }
        return .open(user: user, channel: channel, thread: nil, text: unescape(form["text"] ?? ""), eventID: nil)
    }

    /// An interactivity payload (`block_actions` or `view_submission`).
    public static func interaction(_ payload: JSON) -> SlackRequest {
        guard let user = payload["user"]?["id"]?.string else { return .ignore("interaction without user") }
        let trigger = payload["trigger_id"]?.string
        switch payload["type"]?.string {
        case "block_actions":
            if let approval = approvalAction(payload, user: user, trigger: trigger) { return approval }
            guard let action = payload["actions"]?[0], let actionID = action["action_id"]?.string,
                let blockID = action["block_id"]?.string.flatMap(BlockID.init(parsing:))
            else { return .ignore("an action that is not ours") }
            let channel = payload["channel"]?["id"]?.string ?? payload["container"]?["channel_id"]?.string
            let value = action["selected_option"]?["value"]?.string ?? action["value"]?.string ?? ""
            let event: DialogEvent
            switch actionID {
            case "pick": event = .picked(command: value)
            case "skip": event = .skipped
            case "cancel": event = .cancelled
            case "confirm_yes": event = .confirmed(true)
            case "confirm_no": event = .confirmed(false)
            case "code_open":
                guard let trigger else { return .ignore("code button without trigger") }
                return .openCodeModal(user: user, dialog: blockID.dialog, step: blockID.step, trigger: trigger)
            case let id where id == "answer" || id.hasPrefix("answer_"): event = .answered(value: value)
            default: return .ignore("unknown action \(actionID)")
            }
            return .event(
                user: user, dialog: blockID.dialog, input: DialogInput(event, step: blockID.step), channel: channel, trigger: trigger)
        case "view_submission" where payload["view"]?["callback_id"]?.string == "meeseeks_deny":
            // private_metadata: `JOB|CHANNEL`, written by `denyModal`.
            let metadata = (payload["view"]?["private_metadata"]?.string ?? "").split(separator: "|", omittingEmptySubsequences: false)
            guard let first = metadata.first, let jobID = Int64(first) else { return .ignore("a deny modal without its job") }
            let channel = metadata.count > 1 && !metadata[1].isEmpty ? String(metadata[1]) : nil
            let reason = payload["view"]?["state"]?["values"]?["reason"]?["reason"]?["value"]?.string ?? ""
            return .decide(user: user, jobID: jobID, approve: false, reason: reason, channel: channel)
        case "view_submission":
            guard payload["view"]?["callback_id"]?.string == "meeseeks_code",
                let blockID = payload["view"]?["private_metadata"]?.string.flatMap(BlockID.init(parsing:))
            else { return .ignore("a view that is not ours") }
            let code = payload["view"]?["state"]?["values"]?["code"]?["code"]?["value"]?.string ?? ""
            return .event(
                user: user, dialog: blockID.dialog, input: DialogInput(.codeEntered(code), step: blockID.step), channel: nil,
                trigger: trigger)
        default:
            return .ignore("interaction type \(payload["type"]?.string ?? "?")")
        }
    }

    /// The Approve and Deny buttons of an approval request (`block_id` `ma:JOB`).
    static func approvalAction(_ payload: JSON, user: String, trigger: String?) -> SlackRequest? {
        guard let action = payload["actions"]?[0], let actionID = action["action_id"]?.string,
            actionID == "approve" || actionID == "deny", action["block_id"]?.string?.hasPrefix("ma:") == true
        else { return nil }
        guard let jobID = action["value"]?.string.flatMap({ Int64($0) }) else { return .ignore("an approval button without its job") }
        let channel = payload["channel"]?["id"]?.string ?? payload["container"]?["channel_id"]?.string
        if actionID == "approve" { return .decide(user: user, jobID: jobID, approve: true, reason: nil, channel: channel) }
        guard let trigger else { return .ignore("deny button without trigger") }
        return .openDenyModal(user: user, jobID: jobID, channel: channel, trigger: trigger)
    }

    /// The code's shape, checked while Slack waits (a wrong shape keeps the modal open).
    public static func codeShapeError(_ request: SlackRequest) -> String? {
        guard case .event(_, _, let input, _, _) = request, case .codeEntered(let code) = input.event else { return nil }
        return CodeShape.problem(code)
    }

    /// The text after the leading `<@BOT>` mention, with Slack's escapes undone.
    static func text(afterMention text: String) -> String {
        var rest = Substring(text)
        while rest.first?.isWhitespace == true { rest.removeFirst() }
        while rest.hasPrefix("<@"), let close = rest.firstIndex(of: ">") {
            rest = rest[rest.index(after: close)...]
            while rest.first?.isWhitespace == true { rest.removeFirst() }
        }
        return unescape(String(rest))
    }

    static func unescape(_ text: String) -> String {
        text.replacing("&lt;", with: "<").replacing("&gt;", with: ">").replacing("&amp;", with: "&")
    }

    /// `a=1&b=2` into a dictionary, `+` as space, percent escapes undone (bytes, then UTF-8).
    public static func form(_ body: some Collection<UInt8>) -> [String: String] {
        var result: [String: String] = [:]
        for pair in Array(body).split(separator: UInt8(ascii: "&")) {
            let parts = pair.split(separator: UInt8(ascii: "="), maxSplits: 1, omittingEmptySubsequences: false)
            result[percentDecode(parts[0])] = parts.count > 1 ? percentDecode(parts[1]) : ""
        }
        return result
    }

    static func percentDecode(_ bytes: ArraySlice<UInt8>) -> String {
        var out = [UInt8]()
        out.reserveCapacity(bytes.count)
        var i = bytes.startIndex
        while i < bytes.endIndex {
            let byte = bytes[i]
            if byte == UInt8(ascii: "+") {
                out.append(UInt8(ascii: " "))
            } else if byte == UInt8(ascii: "%"), i + 2 < bytes.endIndex, let high = hexValue(bytes[i + 1]), let low = hexValue(bytes[i + 2])
            {
                out.append(high << 4 | low)
                i += 2
            } else {
                out.append(byte)
            }
            i += 1
        }
        return String(decoding: out, as: UTF8.self)
    }

    static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
        default: nil
        }
    }
}
