import FuzzInputs
import FuzzSupport
import MeeseeksCore
import MeeseeksSlack

/// Everything an unauthenticated Slack request reaches: the signature check with arbitrary
/// headers, then (as if signed) the three HTTP routes' body readers and a Socket Mode envelope.
///
/// Input: line 1 is `X-Slack-Request-Timestamp`, line 2 `X-Slack-Signature` (`-` for a missing
/// header, `valid` for the right signature of this body), the rest is the raw body.
/// Checks: nothing crashes; a right signature with a timestamp inside the window (written in at
/// most 20 characters) is accepted.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzSlack(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let parts = fields(input(data, size), 3)
    let timestamp = header(parts[0])
    let body = Array(parts[2])
    var signature = header(parts[1])
    if signature == "valid", let timestamp { signature = signer.signature(timestamp: timestamp, body: body) }

    do {
        try signer.verify(timestamp: timestamp, signature: signature, body: body, now: now)
    } catch {
        // The rule: at most 20 characters (Int64's digits and a sign) are read; a longer header
        // is refused unread, even all leading zeros (SlackSignature.verify).
        if case .some(let given) = signature, let timestamp, given == signer.signature(timestamp: timestamp, body: body),
            timestamp.utf8.count <= 20, let seconds = Int64(timestamp), seconds >= Int64(now) - 300, seconds <= Int64(now) + 300
        {
            fatalError("a right, fresh signature was refused (\(error)) for timestamp \(timestamp)")
        }
    }

    // POST /slack/events
    if let json = JSON.decode(body) { _ = SlackInbound.event(json) }
    // POST /slack/commands
    let form = SlackInbound.form(body)
    _ = SlackInbound.command(form)
    // POST /slack/interactivity
    if let payload = form["payload"].flatMap({ JSON.decode(Array($0.utf8)) }) {
        _ = SlackInbound.codeShapeError(SlackInbound.interaction(payload))
    }
    // A Socket Mode envelope, read as SocketModeClient.acknowledge reads it.
    if let frame = JSON.decode(body) {
        let payload = frame["payload"] ?? [:]
        switch frame["type"]?.string {
        case "events_api": _ = SlackInbound.event(payload)
        case "slash_commands": _ = SlackInbound.command((payload.object ?? [:]).compactMapValues { $0.string })
        case "interactive": _ = SlackInbound.codeShapeError(SlackInbound.interaction(payload))
        default: break
        }
    }
    return 0
}

let signer = SlackSignature(secret: "8f742231b10e8888abcd99yyyzzz85a5")
/// The box's clock, fixed so every run of an input takes the same path.
let now = 1_531_420_618.0

/// A header line, `-` meaning the header is absent.
func header(_ bytes: ArraySlice<UInt8>) -> String? {
    let value = text(bytes)
    return value == "-" ? nil : value
}
