import MeeseeksConfig
import MeeseeksCore
import MeeseeksLabels
import Testing

/// The example policy of SPEC §4, with agents in staging and production.
enum PolicyFixture {
    static let policy = PolicySet(
        roles: [
            "admin": Role(name: "admin", members: [.user("UADMIN")]),
            "sre": Role(name: "sre", members: [.user("USRE"), .handle("rick")]),
            "dev": Role(name: "dev", members: [.user("UDEV")]),
        ],
        grants: [
            Grant(roles: ["sre"], commands: ["*"], on: try! LabelSelector("env in (stg, prd)")),
            Grant(roles: ["dev"], commands: ["hello", "deploy-*"], on: try! LabelSelector("env = stg")),
        ])

    static let agents = [
        AgentInfo(id: "prd-web", labels: ["env": "prd", "role": "web"]),
        AgentInfo(id: "stg-web", labels: ["env": "stg", "role": "web"]),
        AgentInfo(id: "stg-db", labels: ["env": "stg", "role": "db"], commands: ["hello"]),
        AgentInfo(id: "dev-box", labels: ["env": "dev"]),
    ]

    static func command(_ name: String, selector: String = "") -> CommandSpec {
        CommandSpec(name: name, summary: name, action: .run([Template("/bin/true")]), selector: try! LabelSelector(selector))
    }
}

@Suite("The policy engine decides who may run what where")
struct PolicyEngineTests {
    let engine = PolicyEngine(policy: PolicyFixture.policy, resolvedHandles: ["rick": "URICK"])

    /// Every role × command × selector, with the agents allowed or the refusal's reason.
    @Test(
        "the decision matrix",
        arguments: [
            // user, command, command selector, request selector, expected
            ("USRE", "restart", "", "", "prd-web,stg-web"),
            ("USRE", "restart", "role=web", "", "prd-web,stg-web"),
            ("USRE", "restart", "role=web", "env=prd", "prd-web"),
            ("USRE", "restart", "role=db", "", "no_agent_accepts_command"),
            ("USRE", "hello", "role=db", "", "stg-db"),
            ("USRE", "restart", "", "env=dev", "no_agent_matches_request"),
            ("USRE", "restart", "env=dev", "", "no_agent_matches_command"),
            ("URICK", "restart", "", "env=stg", "stg-web"),
            ("UDEV", "hello", "", "", "stg-db,stg-web"),
            ("UDEV", "deploy-api", "", "", "stg-web"),
            ("UDEV", "deploy-api", "env=prd", "", "no_agent_matches_command"),
            ("UDEV", "restart", "", "", "no_grant"),
            ("UDEV", "hello", "", "env=prd", "no_agent_matches_request"),
            ("UADMIN", "hello", "", "", "no_grant"),
            ("UNOBODY", "hello", "", "", "no_role"),
            ("rick", "hello", "", "", "no_role"),
        ])
    func matrix(user: String, command: String, selector: String, request: String, expected: String) throws {
        let decision = engine.authorize(
            user: user, command: PolicyFixture.command(command, selector: selector),
            requestSelector: try LabelSelector(request), agents: PolicyFixture.agents)
        switch decision {
        case .allowed(let targets, _): #expect(targets.map(\.id).joined(separator: ",") == expected)
        case .refused(let refusal): #expect(refusal.reason == expected)
        }
    }

    @Test("grants exist but no connected agent matches their 'on'")
    func noAgentMatchesGrant() {
        let decision = engine.authorize(
            user: "UDEV", command: PolicyFixture.command("hello"),
            agents: [AgentInfo(id: "prd", labels: ["env": "prd"])])
        #expect(decision == .refused(.noAgentMatchesGrants(command: "hello", selectors: [try! LabelSelector("env=stg")])))
        if case .refused(let refusal) = decision {
            #expect(refusal.description == "you may run 'hello' only on agents matching 'env=stg', and no connected agent does")
        }
    }

    @Test("channels restrict where a command may be requested")
    func channels() {
        var command = PolicyFixture.command("hello")
        command.channels = ["C-OPS"]
        let elsewhere = engine.authorize(user: "USRE", command: command, channel: "C-RANDOM", agents: PolicyFixture.agents)
        #expect(elsewhere == .refused(.wrongChannel(command: "hello", allowed: ["C-OPS"])))
        let here = engine.authorize(user: "USRE", command: command, channel: "C-OPS", agents: PolicyFixture.agents)
        #expect(here != elsewhere)
        // Asked outside any channel (the API, a terminal): not in an allowed channel either.
        let nowhere = engine.authorize(user: "USRE", command: command, channel: nil, agents: PolicyFixture.agents)
        #expect(nowhere == .refused(.wrongChannel(command: "hello", allowed: ["C-OPS"])))
    }

    @Test("a stored selector that no longer parses fails its job at dispatch instead of going anywhere")
    func unreadableSelectorFailsClosed() {
        var scheduler = Scheduler()
        let configuration = Configuration(commands: [PolicyFixture.command("hello")], policy: PolicyFixture.policy)
        let job = Job(id: 7, command: "hello", arguments: [:], requester: "USRE", selector: "env in (", createdAt: 1)
        let decisions = scheduler.plan(
            queued: [job], running: [:], fleet: PolicyFixture.agents, free: { _ in 1 }, configuration: configuration, engine: engine)
        guard case .fail(7, let reason)? = decisions.first else {
            Issue.record("\(decisions)")
            return
        }
        #expect(reason.contains("cannot be read"))
    }

    @Test("a command restricted to channels is refused when the request comes from no channel")
    func channelsWithoutChannel() {
        var command = PolicyFixture.command("hello")
        command.channels = ["C-OPS"]
        let nowhere = engine.authorize(user: "USRE", command: command, channel: nil, agents: PolicyFixture.agents)
        #expect(nowhere == .refused(.wrongChannel(command: "hello", allowed: ["C-OPS"])))
        command.channels = []
        let never = engine.authorize(user: "USRE", command: command, channel: "C-OPS", agents: PolicyFixture.agents)
        #expect(never == .refused(.wrongChannel(command: "hello", allowed: [])))
        command.channels = nil
        let anywhere = engine.authorize(user: "USRE", command: command, channel: nil, agents: PolicyFixture.agents)
        guard case .allowed(let targets, _) = anywhere else {
            Issue.record("an unrestricted command was refused: \(anywhere)")
            return
        }
        #expect(targets.map(\.id) == ["prd-web", "stg-db", "stg-web"])
    }

    @Test("roles, admins and handles")
    func roles() {
        #expect(engine.roles(of: "USRE") == ["sre"])
        #expect(engine.roles(of: "URICK") == ["sre"])
        #expect(engine.isAdmin("UADMIN"))
        #expect(!engine.isAdmin("USRE"))
        #expect(engine.mayRequest(user: "UDEV", command: "deploy-web"))
        #expect(!engine.mayRequest(user: "UDEV", command: "restart"))
    }

    @Test("the dispatch-time check agrees with the decision")
    func permits() {
        let restart = PolicyFixture.command("restart")
        #expect(engine.permits(user: "USRE", command: restart, on: PolicyFixture.agents[0]))
        #expect(!engine.permits(user: "UDEV", command: restart, on: PolicyFixture.agents[1]))
        #expect(!engine.permits(user: "USRE", command: restart, on: PolicyFixture.agents[3]))
    }
}

@Suite("Command globs")
struct GlobTests {
    @Test(
        "globs match like a shell's",
        arguments: [
            ("*", "anything", true), ("deploy-*", "deploy-api", true), ("deploy-*", "deploy", false),
            ("h?llo", "hello", true), ("h?llo", "hllo", false), ("[a-c]at", "bat", true), ("[!a-c]at", "bat", false),
            ("*-db", "backup-db", true), ("a*b*c", "aXbYc", true), ("a*b*c", "aXbY", false), ("hello", "hello", true),
        ])
    func matches(pattern: String, text: String, expected: Bool) {
        #expect(Glob.matches(pattern, text) == expected)
    }
}
