import MeeseeksSlack
import Testing

@Suite("Slack request signatures")
struct SlackSignatureTests {
    static let secret = "8f742231b10e8888abcd99yyyzzz85a5"
    static let body =
        "token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text=&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c"
    static let expected = "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503"
    let signature = SlackSignature(secret: secret)

    @Test("the documentation's test vector")
    func vector() throws {
        #expect(signature.signature(timestamp: "1531420618", body: Array(Self.body.utf8)) == Self.expected)
        try signature.verify(timestamp: "1531420618", signature: Self.expected, body: Array(Self.body.utf8), now: 1_531_420_618 + 299)
    }

    @Test(
        "refusals",
        arguments: [
            (nil, expected, 1_531_420_618.0, SlackSignature.Failure.missingHeaders),
            ("1531420618", nil, 1_531_420_618.0, .missingHeaders),
            ("soon", expected, 1_531_420_618.0, .badTimestamp),
            ("1531420618", expected, 1_531_420_618.0 + 301, .stale),
            ("1531420618", expected, 1_531_420_618.0 - 301, .stale),
            ("1531420618", "v0=" + String(repeating: "0", count: 64), 1_531_420_618.0, .mismatch),
            ("1531420618", expected.uppercased(), 1_531_420_618.0, .mismatch),
            ("1531420619", expected, 1_531_420_618.0, .mismatch),
        ] as [(String?, String?, Double, SlackSignature.Failure)])
    func refuses(timestamp: String?, given: String?, now: Double, failure: SlackSignature.Failure) {
        #expect(throws: failure) {
            try signature.verify(timestamp: timestamp, signature: given, body: Array(Self.body.utf8), now: now)
        }
    }

    /// Any header value a client can send: refused as stale or malformed, never a trap.
    @Test(
        "hostile timestamps",
        arguments: [
            "-9223372036854775808", "9223372036854775807", "18446744073709551615", "-1", "0", String(repeating: "9", count: 40),
            "+1531420618", " 1531420618", "1531420618.0",
        ])
    func hostileTimestamps(timestamp: String) {
        #expect(throws: SlackSignature.Failure.self) {
            try signature.verify(timestamp: timestamp, signature: Self.expected, body: Array(Self.body.utf8), now: 1_531_420_618)
        }
    }

    @Test("one changed byte of the body fails")
    func tamperedBody() {
        var body = Array(Self.body.utf8)
        body[10] ^= 1
        #expect(throws: SlackSignature.Failure.mismatch) {
            try signature.verify(timestamp: "1531420618", signature: Self.expected, body: body, now: 1_531_420_618)
        }
    }
}
