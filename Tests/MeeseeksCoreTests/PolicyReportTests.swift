import MeeseeksConfig
import MeeseeksCore
import MeeseeksLabels
import Testing

@Suite("A fleet file lists agents with their labels and commands")
struct AgentFleetFileTests {
    @Test("YAML and JSON, labels as a mapping or k=v text, commands as a list, a string or absent")
    func reads() {
        let yaml = """
            - id: web-1
              labels: {env: prd, role: web}
              commands: [restart, "deploy-*"]
            - id: db-1
              labels: "env=stg,role=db"
              commands: "hello, uptime"
            - id: bare
            """
        let json = #"[{"id": "web-1", "labels": {"env": "prd", "tier": ""}, "commands": []}]"#
        let fromYAML = AgentFleetFile.parse(yaml, file: "fleet.yaml")
        #expect(fromYAML.diagnostics.isEmpty)
        #expect(
            fromYAML.agents == [
                AgentInfo(id: "web-1", labels: ["env": "prd", "role": "web"], commands: ["restart", "deploy-*"]),
                AgentInfo(id: "db-1", labels: ["env": "stg", "role": "db"], commands: ["hello", "uptime"]),
                AgentInfo(id: "bare", labels: [:], commands: ["*"]),
            ])
        let fromJSON = AgentFleetFile.parse(json, file: "fleet.json")
        #expect(fromJSON.diagnostics.isEmpty)
        #expect(fromJSON.agents == [AgentInfo(id: "web-1", labels: ["env": "prd", "tier": ""], commands: [])])
    }

    @Test(
        "every problem is reported at its place",
        arguments: [
            ("{id: a}", "f:1:1: error: a fleet file is a list of agents (id, labels, commands), found a mapping"),
            ("- labels: {env: prd}", "f:1:3: error: an agent needs an 'id'"),
            ("- {id: a, label: x}", "f:1:11: error: unknown key 'label' in an agent; expected id, labels or commands"),
            (
                "- {id: a, labels: {env: -x}}",
                "f:1:25: error: invalid label value '-x' for key 'env': must begin and end with a letter or digit"
            ),
            ("- {id: a}\n- {id: a}", "f:2:3: error: agent 'a' is already listed at f:1:3"),
            ("- {id: a, commands: {x: y}}", "f:1:21: error: 'commands' must be a list of globs or a string such as \"restart,deploy-*\""),
        ])
    func reportsProblems(text: String, expected: String) {
        let parsed = AgentFleetFile.parse(text, file: "f")
        #expect(parsed.diagnostics.map(\.description) == [expected])
    }
}

@Suite("The policy report asks the engine about every user and command")
struct PolicyReportTests {
    @Test("decisions per user and command, targets sorted, refusals with their reason")
    func decisions() throws {
        var restart = PolicyFixture.command("restart", selector: "role=web")
        restart.channels = ["C-OPS"]
        let configuration = Configuration(commands: [PolicyFixture.command("hello"), restart], policy: PolicyFixture.policy)
        let report = PolicyReport(
            configuration: configuration, users: ["USRE", "UDEV", "UNOBODY"], commands: ["restart", "hello"],
            agents: PolicyFixture.agents, requestSelector: try LabelSelector("env in (stg, prd)"), channel: "C-OPS")
        #expect(report.agents == ["dev-box", "prd-web", "stg-db", "stg-web"])
        #expect(report.users.map(\.roles) == [["sre"], ["dev"], []])
        #expect(
            report.decisions.map { "\($0.user) \($0.command) \($0.reason ?? $0.targets.joined(separator: ","))" } == [
                "USRE restart prd-web,stg-web", "USRE hello prd-web,stg-db,stg-web",
                "UDEV restart no_grant", "UDEV hello stg-db,stg-web",
                "UNOBODY restart no_role", "UNOBODY hello no_role",
            ])
        let elsewhere = PolicyReport(
            configuration: configuration, users: ["USRE"], commands: ["restart"], agents: PolicyFixture.agents)
        #expect(elsewhere.decisions.map(\.reason) == ["wrong_channel"])
        #expect(elsewhere.text == "✗ USRE restart: 'restart' may only be requested in C-OPS (wrong_channel)")
    }
}
