import Foundation
import FuzzInputs
import MeeseeksConfig
import Testing

/// Configuration files are untrusted too: each of these once hung `meeseeks lint` (and SIGHUP,
/// which runs the same code inside the box) for minutes. Each must now finish at once.
@Suite("Hostile configuration files cannot stall lint")
struct ConfigFuzzRegressionTests {
    @Test("a list nested 200,000 levels deep is one error", .timeLimit(.minutes(1)))
    func deepFlowNesting() {
        let deep = String(repeating: "[", count: 200_000) + String(repeating: "]", count: 200_000)
        // The command's own mapping is the first level: the 64th '[' is one too many.
        #expect(
            lint(["commands.d/a.yaml": "name: deep\nsummary: \(deep)\nrun: [/bin/true]\n"], policy: false) == [
                "commands.d/a.yaml:2:73: error: collections nested more than 64 levels deep"
            ])
    }

    @Test("block mappings nested 65 levels deep are refused, 64 are not")
    func deepBlockNesting() {
        func nested(_ levels: Int) -> String {
            (0..<levels).map { String(repeating: "  ", count: $0) + "k:\n" }.joined() + String(repeating: "  ", count: levels) + "v\n"
        }
        #expect(lint(["commands.d/a.yaml": nested(64)], policy: false).allSatisfy { !$0.contains("nested more than") })
        #expect(
            lint(["commands.d/a.yaml": nested(65)], policy: false) == [
                "commands.d/a.yaml:65:129: error: collections nested more than 64 levels deep"
            ])
    }

    @Test("an alias cannot build a tree deeper than the parser accepts")
    func deepAlias() {
        let inner = String(repeating: "[", count: 40) + String(repeating: "]", count: 40)
        let outer = String(repeating: "[", count: 30) + "*a" + String(repeating: "]", count: 30)
        #expect(
            lint(["commands.d/a.yaml": "x: &a \(inner)\ny: \(outer)\n"], policy: false) == [
                "commands.d/a.yaml:2:34: error: collections nested more than 64 levels deep"
            ])
    }

    @Test("80,000 keys in one mapping are checked for duplicates in linear time", .timeLimit(.minutes(1)))
    func manyKeys() {
        let keys = (0..<80_000).map { "  k\($0): 1\n" }.joined()
        #expect(
            lint(["commands.d/a.yaml": hello + "x:\n" + keys + "  k7: 2\n"]) == [
                "commands.d/a.yaml:4:1: error: unknown key 'x' in a command",
                "commands.d/a.yaml:80005:3: error: duplicate key 'k7' (first defined at commands.d/a.yaml:12:3)",
            ])
    }

    @Test("60,000 placeholders in one template are placed in linear time", .timeLimit(.minutes(1)))
    func manyPlaceholders() {
        let run = "run: [\"/bin/echo\", \"é\(String(repeating: "{{a}}", count: 60_000))\"]\n"
        let found = lint(["commands.d/a.yaml": "name: t\nsummary: s\n" + run])
        // Every placeholder is found (in linear time); a file's findings are shown 200 at most.
        #expect(found.count == 201)
        #expect(found.contains("commands.d/a.yaml:1:1: error: 59800 more problems in this file are not shown; fix the ones above first"))
        #expect(found.contains("commands.d/a.yaml:3:22: error: unknown placeholder '{{a}}' in 'run'; the command declares no arguments"))
    }

    /// Reading each name from readdir's buffer once read 256 bytes per entry, past the end of the
    /// buffer (only AddressSanitizer sees that: `scripts/fuzz` replays the saved input under it).
    @Test("a folder of 10,000 command files is listed whole", .timeLimit(.minutes(1)))
    func manyFiles() {
        var files: [String: String] = [:]
        for i in 0..<10_000 { files["commands.d/c\(i).yaml"] = "" }
        let found = lint(files, policy: false)
        #expect(found.count == 10_000)
        #expect(found.allSatisfy { $0.hasSuffix(": warning: file is empty; it declares nothing") })
        #expect(found.first?.hasPrefix("commands.d/c0.yaml:1:1:") == true)
        #expect(found.last?.hasPrefix("commands.d/c9999.yaml:1:1:") == true)
    }

    /// The saved inputs, read as FuzzConfig reads them and loaded as it loads them.
    @Test("every saved FuzzConfig input loads to diagnostics", .timeLimit(.minutes(2)))
    func replay() throws {
        let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("Fuzz/regressions/FuzzConfig")
        let names = try FileManager.default.contentsOfDirectory(atPath: folder.path).sorted()
        #expect(!names.isEmpty)
        for name in names {
            let files = ConfigInput.files(Array(try Data(contentsOf: folder.appendingPathComponent(name))))
            let dir = TemporaryDirectory()
            for file in files {
                let path = "\(dir.path)/\(file.name)"
                try FileManager.default.createDirectory(
                    atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
                try Data(file.content).write(to: URL(fileURLWithPath: path))
            }
            let result =
                ConfigInput.isSingle(files)
                ? ConfigLoader.load(paths: ["\(dir.path)/\(ConfigInput.single)"]) : ConfigLoader.load(directory: dir.path)
            #expect(!result.diagnostics.isEmpty, "\(name)")
            #expect(result.diagnostics.allSatisfy { $0.position.line >= 1 && $0.position.column >= 1 }, "\(name)")
            #expect((result.configuration == nil) == result.diagnostics.contains { $0.severity == .error }, "\(name)")
        }
    }
}
