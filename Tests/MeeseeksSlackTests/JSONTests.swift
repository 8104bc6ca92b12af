import Foundation
import MeeseeksSlack
import Testing

@Suite("JSON reading and writing")
struct JSONTests {
    @Test(
        "Slack-shaped payloads read as JSONSerialization reads them",
        arguments: [
            #"{"type":"block_actions","user":{"id":"U1"},"actions":[{"action_id":"pick","value":"hello"}],"n":12,"f":-1.5e3}"#,
            #"  [1, 2.25, -0, 1E2, true, false, null, "", "a\"b\\c\/d\n\t\r\b\f"]  "#,
            #"{"emoji":"caf\u00e9 \ud83d\ude80 ✓","nested":{"a":[[],{}]}}"#,
            #""just a string""#,
            "42",
        ])
    func agreesWithFoundation(_ text: String) throws {
        let ours = try #require(JSON.decode(Array(text.utf8)))
        let theirs = try JSONSerialization.jsonObject(with: Data(text.utf8), options: [.fragmentsAllowed])
        #expect(ours == Self.json(theirs))
    }

    @Test(
        "malformed text is refused",
        arguments: [
            "", " ", "{", "}", "[1,]", "{\"a\":1,}", "{\"a\" 1}", "{a:1}", "01", "1.", ".5", "-", "1e", "+1", "tru", "nul",
            "\"unterminated", "\"bad \\x escape\"", "\"\\ud83d alone\"", "\"\\u12\"", "\"tab\there\"", "[1] [2]", "NaN",
        ])
    func refusesMalformed(_ text: String) {
        #expect(JSON.decode(Array(text.utf8)) == nil)
    }

    @Test("invalid UTF-8 inside a string is refused")
    func refusesInvalidUTF8() {
        #expect(JSON.decode([UInt8(ascii: "\""), 0xFF, 0xFE, UInt8(ascii: "\"")]) == nil)
    }

    @Test("nesting is bounded instead of exhausting the stack")
    func boundedDepth() {
        let deep = String(repeating: "[", count: 100_000) + String(repeating: "]", count: 100_000)
        #expect(JSON.decode(Array(deep.utf8)) == nil)
        let fine = String(repeating: "[", count: 200) + String(repeating: "]", count: 200)
        #expect(JSON.decode(Array(fine.utf8)) != nil)
    }

    @Test("written text is what JSONEncoder writes with sorted keys and unescaped slashes")
    func writesLikeJSONEncoder() throws {
        let value: JSON = [
            "text": "a \"quote\", a \\ backslash, a / slash, a\nnewline, a \u{01} control, café 🚀",
            "blocks": [["type": "section", "n": 3, "half": .number(0.5), "big": .number(1e20), "flag": true, "none": .null]],
            "Zed": [], "alpha": [:],
        ]
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let reference = try JSONSerialization.jsonObject(with: try encoder.encode(value))
        let ours = value.encoded()
        #expect(JSON.decode(ours) == value)
        #expect(Self.json(try JSONSerialization.jsonObject(with: Data(ours))) == Self.json(reference))
        let text = String(decoding: ours, as: UTF8.self)
        #expect(text.hasPrefix(#"{"Zed":[],"alpha":{},"blocks":[{"big":1e+20,"flag":true,"half":0.5,"n":3,"none":null,"type":"section"}]"#))
        #expect(text.contains(#"a / slash, a\nnewline, a \u0001 control, café 🚀"#))
    }

    /// Foundation's `Any` as a `JSON`, for comparison.
    static func json(_ object: Any) -> JSON {
        switch object {
        case let value as String: return .string(value)
        case let value as NSNumber:
            return String(cString: value.objCType) == "c" ? .bool(value.boolValue) : .number(value.doubleValue)
        case let value as [Any]: return .array(value.map(json))
        case let value as [String: Any]: return .object(value.mapValues(json))
        default: return .null
        }
    }
}
