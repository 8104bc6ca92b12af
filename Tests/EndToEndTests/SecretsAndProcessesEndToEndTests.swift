import Foundation
import MeeseeksAPI
import MeeseeksClient
import MeeseeksCore
import Testing

/// A command that writes its secret argument to a file: what the program really got is seen
/// there, while the job's output (kept in the database) stays clean.
let revealCommand = """
    name: reveal
    summary: Keep a secret
    script: |
      #!/bin/sh
      printf '%s' "$MEESEEKS_ARG_PASSWORD" > "$MEESEEKS_ARG_OUT"
      echo stored
    args:
      - {name: password, secret: true, pattern: '^[a-z0-9-]+$'}
      - {name: out, pattern: '^/[A-Za-z0-9/._-]+$'}

    """

let napCommand = "name: nap\nsummary: Sleep\nrun: [/bin/sleep, \"{{seconds}}\"]\nargs: [{name: seconds, type: int}]\n"

@Suite("Secrets survive hand-backs and restarts; jobs die with their agent; output stays bounded", .serialized)
struct SecretsAndProcessesEndToEndTests {
    /// Every file of the box's database, for grepping.
    func databaseBytes(_ directory: String) throws -> Data {
        var all = Data()
        for name in try FileManager.default.contentsOfDirectory(atPath: directory) where name.hasPrefix("meeseeks.db") {
            all += try Data(contentsOf: URL(fileURLWithPath: "\(directory)/\(name)"))
        }
        return all
    }

    @Test("a secret queued at kill -9 runs with its real value after the restart; neither the database nor the logs hold it")
    func secretSurvivesRestart() async throws {
        let secret = "hunter-\(UInt32.random(in: 0...UInt32.max))"
        let config = try ConfigDirectory([
            "commands.d/reveal.yaml": revealCommand, "commands.d/nap.yaml": napCommand, "policies.d/p.yaml": ConfigDirectory.policy,
        ])
        let first = try await BoxProcess(directory: config.path, arguments: ["--local-slots", "1"])
        let client = first.client(as: "U_SRE")
        let busy = try await client.run(API.RunRequest(command: "nap", positional: ["30"]))
        let out = "\(config.path)/revealed"
        let queued = try await client.run(API.RunRequest(command: "reveal", arguments: ["password": secret, "out": out]))
        try await Task.sleep(for: .milliseconds(300))
        #expect(try await client.job(queued.id).job.status == .queued)
        #expect(try await client.job(queued.id).job.arguments == ["password": maskedValue, "out": out])
        first.server.signal(SIGKILL)
        _ = try await first.server.exitStatus()
        #expect(try databaseBytes(config.path).range(of: Data(secret.utf8)) == nil)

        let second = try await BoxProcess(directory: config.path, arguments: ["--local-slots", "1"])
        let again = second.client(as: "U_SRE")
        #expect(try await waitForJob(again, busy.id).status == .lost)
        let ran = try await waitForJob(again, queued.id)
        #expect(ran.status == .succeeded)
        #expect(try String(contentsOfFile: out, encoding: .utf8) == secret)
        try await second.stop()
        for text in [first.server.stdout, first.server.stderr, second.server.stdout, second.server.stderr] {
            #expect(!text.contains(secret))
        }
        #expect(try databaseBytes(config.path).range(of: Data(secret.utf8)) == nil)
    }

    @Test("a draining agent hands a secret job back; it waits, then runs elsewhere with the real value")
    func handBackKeepsSecret() async throws {
        let secret = "drain-\(UInt32.random(in: 0...UInt32.max))"
        let config = try ConfigDirectory([
            "commands.d/reveal.yaml": revealCommand, "commands.d/nap.yaml": napCommand, "policies.d/p.yaml": ConfigDirectory.policy,
        ])
        let box = try await BoxProcess(directory: config.path, arguments: ["--no-local-agent"])
        let client = box.client(as: "U_SRE")
        let first = try AgentProcess(box: box, id: "a-1", labels: "pool=a")
        try await first.waitConnected()
        let nap = try await client.run(API.RunRequest(command: "nap", positional: ["2"]))
        try await Task.sleep(for: .milliseconds(300))
        let out = "\(config.path)/revealed"
        let queued = try await client.run(
            API.RunRequest(command: "reveal", arguments: ["password": secret, "out": out], selector: "pool=a"))
        // Draining: the nap finishes; the secret job is then offered to it and handed back.
        first.process.signal(SIGTERM)
        #expect(try await waitForJob(client, nap.id).status == .succeeded)
        #expect(try await first.process.exitStatus(timeout: 30) == 0)
        let second = try AgentProcess(box: box, id: "a-2", labels: "pool=a")
        try await second.waitConnected()
        let ran = try await waitForJob(client, queued.id)
        #expect(ran.status == .succeeded && ran.agent == "a-2")
        #expect(try String(contentsOfFile: out, encoding: .utf8) == secret)
        #expect(first.process.stderr.contains("shutting down") || first.process.stderr.contains("shutting_down"))
        #expect(try databaseBytes(config.path).range(of: Data(secret.utf8)) == nil)
        for text in [box.server.stdout, box.server.stderr, first.process.stderr, second.process.stderr] { #expect(!text.contains(secret)) }
    }

    @Test("kill -9 of an agent kills its jobs and their children: nothing runs on as an orphan")
    func jobsDieWithTheirAgent() async throws {
        let spawner = """
            name: spawner
            summary: A job with a grandchild
            script: |
              #!/bin/sh
              sleep 300 &
              echo "child $!"
              echo "leader $$"
              wait

            """
        let config = try ConfigDirectory(["commands.d/spawner.yaml": spawner, "policies.d/p.yaml": ConfigDirectory.policy])
        let box = try await BoxProcess(directory: config.path, arguments: ["--no-local-agent"])
        let agent = try AgentProcess(box: box, id: "doomed", labels: "pool=x")
        try await agent.waitConnected()
        let client = box.client(as: "U_SRE")
        let job = try await client.run(API.RunRequest(command: "spawner"))
        var pids: [pid_t] = []
        let deadline = Date().addingTimeInterval(10)
        while pids.count < 2, Date() < deadline {
            let text = String(decoding: try await client.output(job.id, from: 0, wait: 1).bytes, as: UTF8.self)
            pids = text.split(separator: "\n").compactMap { line in line.split(separator: " ").last.flatMap { pid_t($0) } }
        }
        #expect(pids.count == 2)
        #expect(pids.allSatisfy(isAlive))
        agent.process.signal(SIGKILL)
        _ = try await agent.process.exitStatus()
        let gone = Date().addingTimeInterval(5)
        while pids.contains(where: isAlive), Date() < gone { try await Task.sleep(for: .milliseconds(50)) }
        #expect(!pids.contains(where: isAlive), "orphans left running: \(pids.filter(isAlive))")
    }

    @Test("a job printing as fast as it can (yes) keeps the agent's memory flat; the output is cut at the limit where it runs")
    func yesKeepsMemoryFlat() async throws {
        let yes = "name: yes\nsummary: Yes\nrun: [/usr/bin/yes]\ntimeout: 8s\n"
        let config = try ConfigDirectory([
            "commands.d/yes.yaml": yes, "meeseeks.yaml": "jobs: {output_limit: 262144}\n", "policies.d/p.yaml": ConfigDirectory.policy,
        ])
        let box = try await BoxProcess(directory: config.path, arguments: ["--no-local-agent"])
        let agent = try AgentProcess(box: box, id: "chatty", labels: "pool=y")
        try await agent.waitConnected()
        let pid = agent.process.process.processIdentifier
        let idle = try #require(residentKiB(pid))
        let client = box.client(as: "U_SRE")
        let job = try await client.run(API.RunRequest(command: "yes"))
        var samples: [Int] = []
        for _ in 0..<14 {
            try await Task.sleep(for: .milliseconds(500))
            if let rss = residentKiB(pid) { samples.append(rss) }
        }
        let done = try await waitForJob(client, job.id)
        #expect(done.status == .timedOut)
        // Flat: after the first second the agent grows by less than 16 MiB, whatever yes prints.
        let settled = samples.dropFirst(2)
        #expect((settled.max() ?? 0) - (settled.min() ?? 0) < 16 * 1024, "RSS samples (KiB): idle \(idle), \(samples)")
        #expect((samples.max() ?? 0) - idle < 64 * 1024, "RSS samples (KiB): idle \(idle), \(samples)")
        let output = try await client.output(job.id, from: 0, wait: 0).bytes
        #expect(output.count < 262_144 + 512)
        #expect(String(decoding: output.suffix(300), as: UTF8.self).contains("output truncated"))
    }

    @Test("the embedded agent's jobs cannot read the box's environment; the local admin token is printed once and kept hashed")
    func embeddedAgentIsContained() async throws {
        let peek = "name: peek\nsummary: Peek\nrun: [/bin/cat, \"/proc/{{pid}}/environ\"]\nargs: [{name: pid, type: int}]\n"
        let whereAmI = "name: whereami\nsummary: Where\nscript: |\n  #!/bin/sh\n  echo \"$0\"\n  stat -c %a \"$(dirname \"$0\")\"\n"
        let config = try ConfigDirectory([
            "commands.d/peek.yaml": peek, "commands.d/whereami.yaml": whereAmI, "policies.d/p.yaml": ConfigDirectory.policy,
        ])
        // As root, /proc is open whatever the box does: run the box as nobody then.
        let asNobody = getuid() == 0
        if asNobody { chown(config.path, 65534, 65534) }
        let secret = "box-secret-\(UInt32.random(in: 0...UInt32.max))"
        func serve() throws -> Spawned {
            try Spawned(
                asNobody ? "/usr/bin/setpriv" : Paths.binary("meeseeks"),
                (asNobody ? ["--reuid=65534", "--regid=65534", "--clear-groups", Paths.binary("meeseeks")] : [])
                    + ["serve", "--config", config.path, "--http", "127.0.0.1:0", "--grpc", "127.0.0.1:0"],
                environment: ["MEESEEKS_API_TOKEN": "", "SLACK_SIGNING_SECRET": secret, "XDG_RUNTIME_DIR": ""])
        }
        let server = try serve()
        try await server.wait(for: "the listeners") { out, _ in out.contains("http listening on") }
        let line = server.stdout.split(separator: "\n").first { $0.contains("http listening on") }!
        let url = "http://" + line.split(separator: " ").last!
        let tokenLine = try #require(server.stdout.split(separator: "\n").first { $0.hasPrefix("export MEESEEKS_API_TOKEN=") })
        let token = String(tokenLine.dropFirst("export MEESEEKS_API_TOKEN=".count))
        #expect(!server.stderr.contains(token))
        #expect(!FileManager.default.fileExists(atPath: "\(config.path)/.meeseeks-token"))
        let client = BoxClient(baseURL: url, token: token, actingAs: "U_SRE")

        let boxPID = server.process.processIdentifier
        // setpriv execs in place: the box keeps its pid.
        let job = try await client.run(API.RunRequest(command: "peek", positional: [String(boxPID)]))
        let peeked = try await waitForJob(client, job.id)
        let seen = String(decoding: try await client.output(job.id, from: 0, wait: 0).bytes, as: UTF8.self)
        #expect(!seen.contains(secret))
        if asNobody { #expect(peeked.status == .failed, "\(seen)") }

        let scripted = try await client.run(API.RunRequest(command: "whereami"))
        #expect(try await waitForJob(client, scripted.id).status == .succeeded)
        let place = String(decoding: try await client.output(scripted.id, from: 0, wait: 0).bytes, as: UTF8.self).split(separator: "\n")
        #expect(place.first?.contains("/meeseeks-scripts-") == true && place.last == "700", "\(place)")
        #expect(place.first?.hasPrefix(config.path) == true, "\(place)")

        server.signal(SIGTERM)
        _ = try await server.exitStatus()
        let restarted = try serve()
        defer { restarted.signal(SIGKILL) }
        try await restarted.wait(for: "the listeners") { out, _ in out.contains("http listening on") }
        #expect(!restarted.stdout.contains("export MEESEEKS_API_TOKEN="))
    }
}
