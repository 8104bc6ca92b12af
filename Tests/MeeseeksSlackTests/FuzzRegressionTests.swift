import Foundation
import FuzzInputs
import MeeseeksSlack
import Testing

/// Inputs the fuzzers once failed on (`Fuzz/regressions/TARGET/`), replayed through the public API.
func fuzzRegressions(_ target: String, file: String = #filePath) -> [(name: String, bytes: [UInt8])] {
    let folder = URL(fileURLWithPath: file).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("Fuzz/regressions/\(target)")
    let names = (try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []
    return names.sorted().compactMap { name in
        (try? Data(contentsOf: folder.appendingPathComponent(name))).map { (name, Array($0)) }
    }
}

@Suite("What the JSON fuzzer found")
struct JSONFuzzRegressionTests {
    @Test(
        "a number too large for a Double is refused, as Foundation refuses it",
        arguments: [
            "9e455", "-1e999", "123456789e+012345678901234567890", "[1e400]", #"{"ts":1e309}"#,
        ])
    func refusesInfinity(_ text: String) {
        #expect(JSON.decode(Array(text.utf8)) == nil)
        #expect((try? JSONSerialization.jsonObject(with: Data(text.utf8), options: [.fragmentsAllowed])) == nil)
    }

    @Test("a number too small for a Double reads as zero, as Foundation reads it")
    func underflowIsZero() {
        #expect(JSON.decode(Array("1e-999".utf8)) == .number(0))
    }

    @Test("every saved input reads back equal after writing")
    func replay() throws {
        let saved = fuzzRegressions("FuzzJSON")
        #expect(!saved.isEmpty)
        for (name, bytes) in saved {
            guard let value = JSON.decode(bytes) else { continue }
            #expect(JSON.decode(value.encoded()) == value, "\(name)")
        }
    }
}

@Suite("What the Slack fuzzer found")
struct SlackFuzzRegressionTests {
    static let secret = "8f742231b10e8888abcd99yyyzzz85a5"
    static let now = 1_531_420_618.0

    @Test(
        "any timestamp header is refused or checked, never a trap",
        arguments: [
            ("-9223372036854775808", SlackSignature.Failure.stale),  // Int64.min: now - it overflowed
            ("9223372036854775807", .stale),  // Int64.max
            ("18446744073709551615", .badTimestamp),  // UInt64.max
            ("-1", .stale), ("0", .stale),
            ("000000000000000000000000001531420618", .badTimestamp),  // overlong digits: refused unread
            ("99999999999999999999999999999", .badTimestamp), ("+1531420618", .mismatch), ("", .badTimestamp),
        ])
    func timestampBoundaries(timestamp: String, failure: SlackSignature.Failure) {
        #expect(throws: failure) {
            try SlackSignature(secret: Self.secret).verify(timestamp: timestamp, signature: "v0=00", body: [], now: Self.now)
        }
    }

    @Test("the window's edges still work: 300 s either way is fresh, 301 s is stale")
    func windowEdges() throws {
        let signer = SlackSignature(secret: Self.secret)
        for (offset, fresh) in [(-300, true), (300, true), (-301, false), (301, false)] {
            let timestamp = String(Int64(Self.now) + Int64(offset))
            let signature = signer.signature(timestamp: timestamp, body: [])
            if fresh {
                try signer.verify(timestamp: timestamp, signature: signature, body: [], now: Self.now)
            } else {
                #expect(throws: SlackSignature.Failure.stale) {
                    try signer.verify(timestamp: timestamp, signature: signature, body: [], now: Self.now)
                }
            }
        }
    }

    /// Lines as FuzzSlack cuts its input: timestamp, signature (`-` when absent), body.
    @Test("every saved input is read without a trap")
    func replay() {
        let saved = fuzzRegressions("FuzzSlack")
        #expect(!saved.isEmpty)
        for (_, bytes) in saved {
            let parts = fields(bytes, 3)
            let header = { (i: Int) -> String? in
                let text = String(decoding: parts[i], as: UTF8.self)
                return text == "-" ? nil : text
            }
            let body = Array(parts[2])
            _ = try? SlackSignature(secret: Self.secret).verify(timestamp: header(0), signature: header(1), body: body, now: Self.now)
            if let json = JSON.decode(body) { _ = SlackInbound.event(json) }
            let form = SlackInbound.form(body)
            _ = SlackInbound.command(form)
            if let payload = form["payload"].flatMap({ JSON.decode(Array($0.utf8)) }) {
                _ = SlackInbound.codeShapeError(SlackInbound.interaction(payload))
            }
        }
    }
}
