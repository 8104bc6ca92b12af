import Foundation
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
    @Test("a number too large for a Double is refused, as Foundation refuses it", arguments: [
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
