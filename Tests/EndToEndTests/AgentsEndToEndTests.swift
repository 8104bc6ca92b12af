import Foundation
import MeeseeksAPI
import MeeseeksClient
import MeeseeksCore
import Testing

/// Commands that say where they ran.
let fleetCommands: [String: String] = [
    "commands.d/where.yaml": "name: where\nsummary: Where\nrun: [/bin/sh, -c, \"echo $MEESEEKS_AGENT_ID\"]\ntarget: {selector: env}\n",
    "commands.d/everywhere.yaml":
        "name: everywhere\nsummary: All\nrun: [/bin/sh, -c, \"echo from $MEESEEKS_AGENT_ID\"]\ntarget: {selector: env, mode: all}\n",
    "commands.d/nap.yaml": "name: nap\nsummary: Sleep\nrun: [/bin/sleep, \"{{seconds}}\"]\nargs: [{name: seconds, type: int}]\n",
    "commands.d/stuck.yaml": "name: stuck\nsummary: Stuck\ntimeout: 1h\n" + stubborn,
    "meeseeks.yaml": "agents: {lost_after: 3s}\n",
    "policies.d/p.yaml": ConfigDirectory.policy,
]

@Suite("Remote agents over gRPC", .serialized)
struct AgentsEndToEndTests {
    func fleet() async throws -> (ConfigDirectory, BoxProcess, [AgentProcess]) {
        let config = try ConfigDirectory(fleetCommands)
        let box = try await BoxProcess(directory: config.path, arguments: ["--no-local-agent"])
        let agents = [
            try AgentProcess(box: box, id: "stg-1", labels: "env=stg,role=web"),
            try AgentProcess(box: box, id: "stg-2", labels: "env=stg,role=web"),
            try AgentProcess(box: box, id: "prd-1", labels: "env=prd,role=db", commands: "where,everywhere,nap,stuck"),
        ]
        for agent in agents { try await agent.waitConnected() }
        return (config, box, agents)
    }

    func output(_ client: BoxClient, _ id: Int64) async throws -> String {
        String(decoding: try await client.output(id, from: 0, wait: 0).bytes, as: UTF8.self)
    }

    @Test("selectors route only to matching agents; mode one goes round robin; mode all fans out")
    func routing() async throws {
        let (config, box, processes) = try await fleet()
        defer { withExtendedLifetime((config, processes)) {} }
        let client = box.client(as: "U_SRE")
        let agents = try await client.agents()
        #expect(agents.map(\.id) == ["prd-1", "stg-1", "stg-2"])
        #expect(agents.allSatisfy { $0.connected })

        var ran: [String] = []
        for _ in 0..<4 {
            let job = try await client.run(API.RunRequest(command: "where", selector: "env=stg"))
            let done = try await waitForJob(client, job.id)
            #expect(done.status == .succeeded)
            ran.append(try await output(client, job.id).trimmingCharacters(in: .whitespacesAndNewlines))
        }
        #expect(ran == ["stg-1", "stg-2", "stg-1", "stg-2"])

        let prd = try await client.run(API.RunRequest(command: "where", selector: "role=db"))
        _ = try await waitForJob(client, prd.id)
        #expect(try await output(client, prd.id) == "prd-1\n")

        let nowhere = try await box.cli(["run", "--as", "U_SRE", "where", "-l", "env=dev"])
        #expect(nowhere.status == 1)
        #expect(nowhere.stderr.contains("no agent you may use matches 'env=dev'"))

        let broadcast = try await client.run(API.RunRequest(command: "everywhere"))
        let parent = try await waitForJob(client, broadcast.id)
        #expect(parent.status == .succeeded)
        let detail = try await client.job(broadcast.id)
        #expect(detail.children.compactMap(\.agent).sorted() == ["prd-1", "stg-1", "stg-2"])
        for child in detail.children {
            #expect(try await output(client, child.id) == "from \(child.agent!)\n")
        }
    }

    @Test("the catalog: an agent only gets the commands it accepts")
    func catalog() async throws {
        let config = try ConfigDirectory(fleetCommands)
        let box = try await BoxProcess(directory: config.path, arguments: ["--no-local-agent"])
        let picky = try AgentProcess(box: box, id: "picky", labels: "env=stg", commands: "nap")
        defer { withExtendedLifetime((config, picky)) {} }
        try await picky.waitConnected()
        let refused = try await box.cli(["run", "--as", "U_SRE", "where"])
        #expect(refused.status == 1)
        #expect(refused.stderr.contains("no matching agent accepts 'where'"))
        let nap = try await box.cli(["run", "--as", "U_SRE", "nap", "0"])
        #expect(nap.status == 0)
    }

    @Test("a wrong token is refused before registering")
    func wrongToken() async throws {
        let config = try ConfigDirectory(fleetCommands)
        let box = try await BoxProcess(directory: config.path, arguments: ["--no-local-agent"])
        let intruder = try AgentProcess(box: box, id: "intruder", labels: "env=stg", token: "wrong")
        try await intruder.process.wait(for: "the refusal") { _, err in err.contains("the box refused this agent") }
        #expect(try await box.client(as: "U_SRE").agents().isEmpty)
        try await box.server.wait(for: "the box's log line") { _, err in err.contains("agent refused") }
    }

    @Test("an agent claiming a connected agent's id is refused")
    func duplicateID() async throws {
        let config = try ConfigDirectory(fleetCommands)
        let box = try await BoxProcess(directory: config.path, arguments: ["--no-local-agent"])
        let first = try AgentProcess(box: box, id: "same", labels: "env=stg")
        defer { withExtendedLifetime((config, first)) {} }
        try await first.waitConnected()
        let second = try AgentProcess(box: box, id: "same", labels: "env=prd")
        try await second.process.wait(for: "the refusal") { _, err in err.contains("is already connected") }
        #expect(try await box.client(as: "U_SRE").agents().map(\.labels.description) == ["env=stg"])
    }

    @Test("kill -9 of an agent mid-job: the job is lost within the bound")
    func agentDies() async throws {
        let (config, box, agents) = try await fleet()
        defer { withExtendedLifetime(config) {} }
        let client = box.client(as: "U_SRE")
        let job = try await client.run(API.RunRequest(command: "nap", positional: ["60"], selector: "env=prd"))
        try await Task.sleep(for: .milliseconds(500))
        #expect(try await client.job(job.id).job.status == .running)
        let killed = Date()
        agents[2].process.signal(SIGKILL)
        let lost = try await waitForJob(client, job.id, timeout: 20)
        #expect(lost.status == .lost)
        #expect(Date().timeIntervalSince(killed) < 3 + 2)
        #expect(try await client.agents().first { $0.id == "prd-1" }?.connected == false)
    }

    @Test("cancel reaches the agent and kills the process tree there")
    func cancelOnAgent() async throws {
        let (config, box, agents) = try await fleet()
        defer { withExtendedLifetime((config, agents)) {} }
        let client = box.client(as: "U_SRE")
        let job = try await client.run(API.RunRequest(command: "stuck", selector: "env=prd"))
        var child: pid_t?
        for _ in 0..<200 where child == nil {
            child = pid(in: try await output(client, job.id))
            if child == nil { try await Task.sleep(for: .milliseconds(50)) }
        }
        let pid = try #require(child)
        _ = try await client.cancel(job.id)
        let ended = try await waitForJob(client, job.id, timeout: 20)
        #expect(ended.status == .cancelled)
        #expect(!isAlive(pid))
    }

    @Test("kill -9 of the box mid-job: the agent keeps the result and delivers it once after the restart")
    func boxDies() async throws {
        let config = try ConfigDirectory(fleetCommands)
        let first = try await BoxProcess(directory: config.path, arguments: ["--no-local-agent"])
        let grpcPort = first.grpc
        let agent = try AgentProcess(box: first, id: "steady", labels: "env=prd")
        defer { withExtendedLifetime((config, agent)) {} }
        try await agent.waitConnected()
        let client = first.client(as: "U_SRE")
        let job = try await client.run(API.RunRequest(command: "nap", positional: ["2"]))
        try await Task.sleep(for: .milliseconds(500))
        first.server.signal(SIGKILL)
        _ = try await first.server.exitStatus()
        try await Task.sleep(for: .seconds(3))  // the job ends while the box is dark

        let second = try await BoxProcess(directory: config.path, arguments: ["--no-local-agent", "--grpc", grpcPort])
        let again = second.client(as: "U_SRE")
        let done = try await waitForJob(again, job.id, timeout: 30)
        #expect(done.status == .succeeded)
        #expect(done.attempt == 1)
        try await second.server.wait(for: "one finish") { _, err in err.contains("job finished") }
        let finishes = second.server.stderr.components(separatedBy: "msg=\"job finished\"").count - 1
        #expect(finishes == 1)
    }
}
