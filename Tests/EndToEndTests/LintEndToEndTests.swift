import Foundation
import Testing

@Suite("meeseeks lint, as users run it")
struct LintEndToEndTests {
    func lint(_ arguments: [String]) async throws -> (Int32, String, String) {
        let process = try Spawned(Paths.binary("meeseeks"), ["lint"] + arguments)
        let status = try await process.exitStatus()
        return (status, process.stdout, process.stderr)
    }

    /// A copy of the shipped examples.
    func examples() throws -> ConfigDirectory {
        var files: [String: String] = [:]
        for folder in ["commands.d", "policies.d"] {
            for name in try FileManager.default.contentsOfDirectory(atPath: "\(Paths.repository)/\(folder)") {
                files["\(folder)/\(name)"] = try String(contentsOfFile: "\(Paths.repository)/\(folder)/\(name)", encoding: .utf8)
            }
        }
        return try ConfigDirectory(files)
    }

    @Test("the shipped examples are clean: exit 0, nothing printed")
    func shippedExamples() async throws {
        let (status, out, err) = try await lint(["--config", Paths.repository, "--strict"])
        #expect(status == 0)
        #expect(out.isEmpty && err.isEmpty)
    }

    @Test("one typo in a key: exit 1 and the suggestion")
    func typo() async throws {
        let config = try examples()
        let path = "\(config.path)/commands.d/hello.yaml"
        let text = try String(contentsOfFile: path, encoding: .utf8).replacingOccurrences(of: "summary:", with: "sumary:")
        try config.write("commands.d/hello.yaml", text)
        let (status, _, err) = try await lint(["--config", config.path])
        #expect(status == 1)
        #expect(
            err == """
                \(path):2:1: error: a command is missing required key 'summary'
                \(path):3:1: error: unknown key 'sumary' in a command; did you mean 'summary'?

                """)
    }

    @Test("--format json prints the same findings as a JSON array")
    func json() async throws {
        let config = try ConfigDirectory(["commands.d/a.yaml": "name: a\nsummary: x\nrun: [/bin/true]\ntimeout: soon\n"])
        let (status, out, err) = try await lint(["--config", config.path, "--format", "json"])
        #expect(status == 1)
        #expect(err.isEmpty)
        let findings = try JSONSerialization.jsonObject(with: Data(out.utf8)) as? [[String: Any]]
        let first = try #require(findings?.first { $0["code"] as? String == "bad-duration" })
        #expect(first["line"] as? Int == 4)
        #expect(first["column"] as? Int == 10)
        #expect(first["severity"] as? String == "error")
    }

    @Test("usage errors exit 2")
    func usage() async throws {
        #expect(try await lint(["--bogus"]).0 == 2)
        #expect(try await lint(["--format", "xml"]).0 == 2)
    }

    @Test("files given as paths are told apart by content")
    func paths() async throws {
        let config = try ConfigDirectory([
            "a.yaml": "name: a\nsummary: x\nrun: [/bin/true]\n",
            "p.yaml": "roles:\n  r: {members: [U1]}\ngrants:\n  - {roles: [r], commands: [a, b]}\n",
        ])
        let (status, _, err) = try await lint(["\(config.path)/a.yaml", "\(config.path)/p.yaml"])
        #expect(status == 0)
        #expect(err == "\(config.path)/p.yaml:4:32: warning: 'b' matches no command\n")
    }
}
