import Foundation
import MeeseeksAPI
import MeeseeksClient
import MeeseeksCore
import Testing

/// A script whose child ignores SIGTERM and prints its pid: only SIGKILL of the group ends it.
let stubborn = """
    script: |
      #!/bin/sh
      sh -c 'trap "" TERM; echo "child $$"; exec sleep 300' &
      trap "" TERM
      sleep 300

    """

func pid(in output: String) -> pid_t? {
    output.split(separator: "\n").first { $0.hasPrefix("child ") }.flatMap { pid_t($0.dropFirst(6)) }
}

/// Alive and not a zombie (an orphan may wait a while for a reaper in a container).
func isAlive(_ pid: pid_t) -> Bool {
    guard kill(pid, 0) == 0 else { return false }
    guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
        let close = stat.lastIndex(of: ")")
    else { return false }
    return !stat[stat.index(after: close)...].trimmingCharacters(in: .whitespaces).hasPrefix("Z")
}

@Suite("Timeout, cancel and restarts contain every process", .serialized)
struct ProcessControlEndToEndTests {
    @Test("a timeout kills the whole process tree, even a child that ignores SIGTERM")
    func timeoutKillsTree() async throws {
        let command = "name: stuck\nsummary: Never ends\ntimeout: 1s\n" + stubborn
        let config = try ConfigDirectory(["commands.d/stuck.yaml": command, "policies.d/p.yaml": ConfigDirectory.policy])
        let box = try await BoxProcess(directory: config.path)
        let client = box.client(as: "U_SRE")
        let job = try await client.run(API.RunRequest(command: "stuck"))
        let ended = try await waitForJob(client, job.id, timeout: 30)
        #expect(ended.status == .timedOut)
        #expect(ended.reason == "timed out after 1s")
        let output = try await client.output(job.id, from: 0, wait: 0)
        let child = try #require(pid(in: String(decoding: output.bytes, as: UTF8.self)))
        #expect(!isAlive(child))
        let cli = try await box.cli(["logs", "--as", "U_SRE", "\(job.id)"])
        #expect(cli.stdout.hasPrefix("child "))
    }

    @Test("cancel kills the whole process tree")
    func cancelKillsTree() async throws {
        let command = "name: stuck\nsummary: Never ends\ntimeout: 1h\n" + stubborn
        let config = try ConfigDirectory(["commands.d/stuck.yaml": command, "policies.d/p.yaml": ConfigDirectory.policy])
        let box = try await BoxProcess(directory: config.path)
        let client = box.client(as: "U_SRE")
        let job = try await client.run(API.RunRequest(command: "stuck"))
        var child: pid_t?
        for _ in 0..<200 where child == nil {
            let output = try await client.output(job.id, from: 0, wait: 0.1)
            child = pid(in: String(decoding: output.bytes, as: UTF8.self))
        }
        let pid = try #require(child)
        #expect(isAlive(pid))
        // Someone else may not cancel it.
        await #expect(throws: BoxClient.Failure.self) { try await box.client(as: "U_DEV").cancel(job.id) }
        let cancel = try await box.cli(["cancel", "--as", "U_SRE", "\(job.id)"])
        #expect(cancel.status == 0)
        let ended = try await waitForJob(client, job.id, timeout: 30)
        #expect(ended.status == .cancelled)
        #expect(!isAlive(pid))
    }

    @Test("kill -9 of the box: the running job is lost, the queued one runs after restart")
    func restartKeepsQueue() async throws {
        let slow = "name: slow\nsummary: Sleep\nrun: [/bin/sleep, \"{{seconds}}\"]\nargs: [{name: seconds, type: int}]\nconcurrency: 1\n"
        let config = try ConfigDirectory(["commands.d/slow.yaml": slow, "policies.d/p.yaml": ConfigDirectory.policy])
        let first = try await BoxProcess(directory: config.path)
        let client = first.client(as: "U_SRE")
        let running = try await client.run(API.RunRequest(command: "slow", positional: ["20"]))
        let queued = try await client.run(API.RunRequest(command: "slow", positional: ["0"]))
        try await Task.sleep(for: .milliseconds(300))
        #expect(try await client.job(queued.id).job.status == .queued)
        first.server.signal(SIGKILL)
        _ = try await first.server.exitStatus()

        // Same port: the orphaned job must not hold the box's listening socket.
        let second = try await BoxProcess(directory: config.path, http: String(first.url.dropFirst("http://".count)))
        let again = second.client(as: "U_SRE")
        let lost = try await waitForJob(again, running.id)
        #expect(lost.status == .lost)
        #expect(lost.reason == "the box restarted while it ran")
        let ran = try await waitForJob(again, queued.id)
        #expect(ran.status == .succeeded)
    }

    @Test("a program that closes its output is still waited for; a descendant that escapes its group does not hold the job open")
    func outputClosedAndEscapedDescendant() async throws {
        let quiet = "name: quiet\nsummary: Closes its output\nscript: |\n  #!/bin/sh\n  echo before\n  exec >&- 2>&-\n  sleep 1\n  exit 3\n"
        let escape =
            "name: escape\nsummary: Leaves a daemon\nscript: |\n  #!/bin/sh\n  setsid sh -c 'echo \"child $$\"; exec sleep 60' &\n  sleep 0.2\n"
        let config = try ConfigDirectory([
            "commands.d/quiet.yaml": quiet, "commands.d/escape.yaml": escape, "policies.d/p.yaml": ConfigDirectory.policy,
        ])
        let box = try await BoxProcess(directory: config.path)
        let client = box.client(as: "U_SRE")

        let closed = try await waitForJob(client, try await client.run(API.RunRequest(command: "quiet")).id, timeout: 30)
        #expect(closed.status == .failed)
        #expect(closed.exitCode == 3)
        #expect(String(decoding: try await client.output(closed.id, from: 0, wait: 0).bytes, as: UTF8.self) == "before\n")

        let started = Date()
        let escaped = try await waitForJob(client, try await client.run(API.RunRequest(command: "escape")).id, timeout: 30)
        #expect(escaped.status == .succeeded)
        #expect(Date().timeIntervalSince(started) < 10)
        let daemon = try #require(pid(in: String(decoding: try await client.output(escaped.id, from: 0, wait: 0).bytes, as: UTF8.self)))
        kill(daemon, SIGKILL)
    }
}
