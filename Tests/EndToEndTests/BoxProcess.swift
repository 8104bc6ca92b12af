import Foundation
import MeeseeksClient
import Synchronization

/// Paths of the built binaries and the repository.
enum Paths {
    static let repository: String = {
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<3 { url.deleteLastPathComponent() }
        return url.path
    }()

    static var binaries: String {
        ProcessInfo.processInfo.environment["MEESEEKS_BIN_DIR"] ?? "\(repository)/.build/debug"
    }

    static func binary(_ name: String) -> String { "\(binaries)/\(name)" }
}

/// A child process whose stdout and stderr are collected, with helpers to wait for a line.
final class Spawned: @unchecked Sendable {
    let process = Process()
    private final class Collected: Sendable {
        let lock = Mutex<(out: String, err: String)>(("", ""))
        func withLock<T>(_ body: (inout (out: String, err: String)) -> T) -> T { lock.withLock { body(&$0) } }
    }

    private let output = Collected()

    init(_ executable: String, _ arguments: [String], environment: [String: String] = [:], stdin: String? = nil) throws {
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        var env = ProcessInfo.processInfo.environment
        for (key, value) in environment { env[key] = value }
        process.environment = env
        let out = Pipe()
        let err = Pipe()
        process.standardOutput = out
        process.standardError = err
        if let stdin {
            let input = Pipe()
            process.standardInput = input
            input.fileHandleForWriting.write(Data(stdin.utf8))
            try? input.fileHandleForWriting.close()
        } else {
            process.standardInput = FileHandle.nullDevice
        }
        out.fileHandleForReading.readabilityHandler = { [output] handle in
            let data = handle.availableData
            output.withLock { $0.out += String(decoding: data, as: UTF8.self) }
        }
        err.fileHandleForReading.readabilityHandler = { [output] handle in
            let data = handle.availableData
            output.withLock { $0.err += String(decoding: data, as: UTF8.self) }
        }
        try process.run()
    }

    var stdout: String { output.withLock { $0.out } }
    var stderr: String { output.withLock { $0.err } }

    /// Waits until `predicate` holds on (stdout, stderr), or fails after `timeout` seconds.
    func wait(for what: String, timeout: Double = 30, _ predicate: (String, String) -> Bool) async throws {
        let deadline = Date().addingTimeInterval(timeout)
        while !predicate(stdout, stderr) {
            guard Date() < deadline else {
                throw TestFailure("timed out waiting for \(what)\nstdout:\n\(stdout)\nstderr:\n\(stderr)")
            }
            if !process.isRunning, !predicate(stdout, stderr) {
                try await Task.sleep(for: .milliseconds(200))
                if predicate(stdout, stderr) { return }
                throw TestFailure("process exited (\(process.terminationStatus)) before \(what)\nstdout:\n\(stdout)\nstderr:\n\(stderr)")
            }
            try await Task.sleep(for: .milliseconds(20))
        }
    }

    /// Waits for the process to exit and returns its status.
    func exitStatus(timeout: Double = 60) async throws -> Int32 {
        let deadline = Date().addingTimeInterval(timeout)
        while process.isRunning {
            guard Date() < deadline else { throw TestFailure("process did not exit\nstdout:\n\(stdout)\nstderr:\n\(stderr)") }
            try await Task.sleep(for: .milliseconds(20))
        }
        try await Task.sleep(for: .milliseconds(50))  // let the pipes drain
        return process.terminationStatus
    }

    func signal(_ signal: Int32) {
        kill(process.processIdentifier, signal)
    }

    deinit {
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
    }
}

struct TestFailure: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// A `meeseeks serve` on a free port with a configuration of the test's own.
final class BoxProcess: @unchecked Sendable {
    static let token = "e2e-token-\(UInt64.random(in: 0...UInt64.max))"
    static let agentToken = "e2e-agent-\(UInt64.random(in: 0...UInt64.max))"
    let directory: String
    let server: Spawned
    let url: String
    /// `HOST:PORT` of the gRPC listener for agents.
    let grpc: String
    let extraArguments: [String]
    let environment: [String: String]

    /// Starts a box on `directory` (which holds commands.d and policies.d).
    init(directory: String, arguments: [String] = [], environment: [String: String] = [:], http: String = "127.0.0.1:0") async throws {
        self.directory = directory
        self.extraArguments = arguments
        self.environment = environment
        server = try Spawned(
            Paths.binary("meeseeks"),
            ["serve", "--config", directory, "--http", http, "--grpc", "127.0.0.1:0"] + arguments,
            environment: ["MEESEEKS_API_TOKEN": Self.token, "MEESEEKS_AGENT_TOKEN": Self.agentToken].merging(environment) { $1 })
        try await server.wait(for: "the listeners") { out, _ in out.contains("http listening on") && out.contains("grpc listening on") }
        let line = server.stdout.split(separator: "\n").first { $0.contains("http listening on") }!
        url = "http://" + line.split(separator: " ").last!
        let grpcLine = server.stdout.split(separator: "\n").first { $0.contains("grpc listening on") }!
        grpc = String(grpcLine.split(separator: " ").last!)
    }

    func client(as user: String) -> BoxClient {
        BoxClient(baseURL: url, token: Self.token, actingAs: user)
    }

    /// Runs the `meeseeks` CLI against this box.
    func cli(_ arguments: [String], stdin: String? = nil) async throws -> (status: Int32, stdout: String, stderr: String) {
        let process = try Spawned(
            Paths.binary("meeseeks"), arguments, environment: ["MEESEEKS_URL": url, "MEESEEKS_API_TOKEN": Self.token],
            stdin: stdin)
        let status = try await process.exitStatus()
        return (status, process.stdout, process.stderr)
    }

    func stop() async throws {
        server.signal(SIGTERM)
        _ = try await server.exitStatus()
    }
}

/// A `mrmeeseeks` connected to a box.
final class AgentProcess: @unchecked Sendable {
    let process: Spawned
    let id: String
    let state: String

    init(
        box: BoxProcess, id: String, labels: String, commands: String = "*", slots: Int = 1, token: String = BoxProcess.agentToken,
        state: String? = nil
    ) throws {
        self.id = id
        self.state = state ?? FileManager.default.temporaryDirectory.appendingPathComponent("agent-\(id)-\(UUID().uuidString)").path
        process = try Spawned(
            Paths.binary("mrmeeseeks"),
            [
                "--box", box.grpc, "--labels", labels, "--commands", commands, "--slots", String(slots), "--id", id, "--state", self.state,
                "--grace", "5",
            ],
            environment: ["MEESEEKS_AGENT_TOKEN": token])
    }

    func waitConnected() async throws {
        try await process.wait(for: "agent \(id) to connect") { _, err in err.contains("connected to the box") }
    }
}

/// A scratch configuration directory.
final class ConfigDirectory: @unchecked Sendable {
    let path: String

    init(_ files: [String: String]) throws {
        path = FileManager.default.temporaryDirectory.appendingPathComponent("meeseeks-e2e-\(UUID().uuidString)").path
        for (name, content) in files {
            let full = "\(path)/\(name)"
            try FileManager.default.createDirectory(
                atPath: (full as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            try content.write(toFile: full, atomically: true, encoding: .utf8)
        }
    }

    func write(_ name: String, _ content: String) throws {
        try content.write(toFile: "\(path)/\(name)", atomically: true, encoding: .utf8)
    }

    deinit {
        try? FileManager.default.removeItem(atPath: path)
    }

    /// A policy where U_SRE may run everything and U_DEV only `hello`.
    static let policy = """
        roles:
          admin: {members: [U_ADMIN]}
          sre: {members: [U_SRE]}
          dev: {members: [U_DEV]}
        grants:
          - {roles: [sre, admin], commands: ["*"]}
          - {roles: [dev], commands: [hello]}

        """
}
