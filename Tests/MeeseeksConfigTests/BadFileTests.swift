import Foundation
import MeeseeksConfig
import Testing

@Suite("Files that are not configuration get a clear message")
struct BadFileTests {
    func load(_ dir: TemporaryDirectory) -> [String] {
        ConfigLoader.load(directory: dir.path).diagnostics.map {
            $0.description.replacingOccurrences(of: dir.path + "/", with: "")
        }
    }

    @Test("an empty commands directory")
    func emptyDirectory() throws {
        let dir = TemporaryDirectory()
        try FileManager.default.createDirectory(atPath: dir.path + "/commands.d", withIntermediateDirectories: true)
        #expect(load(dir) == ["commands.d:1:1: warning: commands.d holds no .yaml files: no commands are declared"])
    }

    @Test("a missing configuration directory is an error")
    func missingDirectory() {
        let result = ConfigLoader.load(directory: "/nonexistent/meeseeks")
        #expect(result.configuration == nil)
        #expect(
            result.diagnostics.map(\.description) == [
                "/nonexistent/meeseeks:1:1: error: configuration directory /nonexistent/meeseeks does not exist"
            ])
    }

    @Test("an empty file")
    func emptyFile() {
        let dir = TemporaryDirectory().write(["commands.d/a.yaml": "", "commands.d/b.yaml": "# only a comment\n"])
        #expect(
            load(dir) == [
                "commands.d/a.yaml:1:1: warning: file is empty; it declares nothing",
                "commands.d/b.yaml:1:1: warning: file is empty; it declares nothing",
            ])
    }

    @Test("a binary file")
    func binaryFile() throws {
        let dir = TemporaryDirectory()
        try FileManager.default.createDirectory(atPath: dir.path + "/commands.d", withIntermediateDirectories: true)
        try Data([0x6e, 0x61, 0x0a, 0x00, 0xff, 0xfe]).write(to: URL(fileURLWithPath: dir.path + "/commands.d/a.yaml"))
        try Data([0xc3, 0x28, 0x0a]).write(to: URL(fileURLWithPath: dir.path + "/commands.d/b.yaml"))
        #expect(
            load(dir) == [
                "commands.d/a.yaml:2:1: error: not a text file (NUL byte); is this really YAML?",
                "commands.d/b.yaml:1:1: error: not valid UTF-8 text; configuration files must be UTF-8",
            ])
    }

    @Test("a 10 MB file is refused unread")
    func hugeFile() {
        let dir = TemporaryDirectory().write(["commands.d/a.yaml": String(repeating: "# padding\n", count: 1_000_000)])
        #expect(
            load(dir) == [
                "commands.d/a.yaml:1:1: error: file is 9.5 MiB; configuration files are limited to 1.0 MiB"
            ])
    }

    @Test("a symlink loop")
    func symlinkLoop() throws {
        let dir = TemporaryDirectory().write(["commands.d/ok.yaml": hello])
        try FileManager.default.createSymbolicLink(atPath: dir.path + "/commands.d/x.yaml", withDestinationPath: "y.yaml")
        try FileManager.default.createSymbolicLink(atPath: dir.path + "/commands.d/y.yaml", withDestinationPath: "x.yaml")
        #expect(
            load(dir).filter { !$0.contains("warning") } == [
                "commands.d/x.yaml:1:1: error: cannot read: Too many levels of symbolic links",
                "commands.d/y.yaml:1:1: error: cannot read: Too many levels of symbolic links",
            ])
    }

    @Test("a file with two documents")
    func twoDocuments() {
        let dir = TemporaryDirectory().write(["commands.d/a.yaml": hello + "---\nname: b\n"])
        #expect(
            load(dir).filter { !$0.contains("warning") } == [
                "commands.d/a.yaml:5:1: error: a configuration file holds one YAML document; split this one into several files"
            ])
    }
}
