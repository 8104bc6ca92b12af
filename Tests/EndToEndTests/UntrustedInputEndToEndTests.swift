import Foundation
import MeeseeksAPI
import MeeseeksClient
import MeeseeksCore
import Testing

/// Hostile numbers, bodies, labels and files, sent to a real box: a plain refusal each time, and
/// the box keeps serving.
@Suite("Untrusted input never crashes, fools or starves the box", .serialized)
struct UntrustedInputEndToEndTests {
    static let files = [
        "commands.d/hello.yaml": helloCommand,
        "commands.d/ops.yaml": "name: ops\nsummary: Ops only\nrun: [/bin/echo, ops]\nchannels: [C_OPS]\n",
        "policies.d/p.yaml": ConfigDirectory.policy,
    ]

    func box() async throws -> (ConfigDirectory, BoxProcess) {
        let config = try ConfigDirectory(Self.files)
        let box = try await BoxProcess(directory: config.path, environment: ["SLACK_SIGNING_SECRET": "shh"])
        return (config, box)
    }

    func expectAlive(_ box: BoxProcess) async throws {
        #expect(box.server.process.isRunning)
        let health = try await RawHTTP.send("GET", "\(box.url)/healthz")
        #expect(health.status == 200)
    }

    @Test("boundary numbers in every query parameter and Slack timestamp: 400 or 401, never a trap")
    func boundaryNumbers() async throws {
        let (config, box) = try await box()
        defer { withExtendedLifetime(config) {} }
        let job = try await box.client(as: "U_SRE").run(API.RunRequest(command: "hello", positional: ["world"]))
        let encoded = hostileNumbers.map { $0.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? $0 }
        for (raw, value) in zip(hostileNumbers, encoded) {
            for path in [
                "/api/v1/jobs/\(job.id)/output?offset=\(value)", "/api/v1/jobs/\(job.id)/output?wait=\(value)",
                "/api/v1/jobs?limit=\(value)", "/api/v1/dialogs/x/messages?after=\(value)", "/api/v1/dialogs/x/messages?wait=\(value)",
                "/api/v1/audit?since=\(value)", "/api/v1/audit?until=\(value)", "/api/v1/audit?limit=\(value)", "/api/v1/jobs/\(value)",
            ] {
                let reply = try await RawHTTP.send("GET", box.url + path)
                #expect([200, 400, 404].contains(reply.status), "\(path) → \(reply.status) \(reply.body)")
                if reply.status == 400 {
                    #expect(reply.body.hasPrefix("{\"error\":\"'") || reply.body.contains("positive number"), "\(path): \(reply.body)")
                }
            }
            let signed = try await RawHTTP.send(
                "POST", "\(box.url)/slack/commands", headers: [("X-Slack-Request-Timestamp", raw), ("X-Slack-Signature", "v0=00")],
                body: "command=%2Fmeeseeks", token: nil)
            #expect(signed.status == 401, "timestamp \(raw) → \(signed.status)")
        }
        // The largest offset reads nothing; the next offset does not wrap.
        let far = try await RawHTTP.send("GET", "\(box.url)/api/v1/jobs/\(job.id)/output?offset=9223372036854775807")
        #expect(far.status == 200 && far.body.isEmpty)
        #expect(far.header("X-Meeseeks-Next-Offset") == "9223372036854775807")
        let overlong = try await RawHTTP.send("GET", "\(box.url)/api/v1/jobs?limit=\(String(repeating: "9", count: 40))")
        #expect(overlong.body == "{\"error\":\"'limit' must be a whole number from 1 to 1000\"}")
        try await expectAlive(box)
    }

    @Test("API bodies: optional fields are optional, and every refusal is one sentence without decoder internals")
    func plainErrors() async throws {
        let (config, box) = try await box()
        defer { withExtendedLifetime(config) {} }
        let cases: [(String, Int, String)] = [
            ("{\"command\":\"hello\",\"arguments\":{\"who\":\"Rick\"}}", 202, ""),
            ("{\"command\":\"hello\",\"positional\":[\"world\"]}", 202, ""),
            ("{\"command\":\"hello\"}", 400, "who is required: Who?"),
            ("{}", 400, "the field 'command' is missing"),
            ("{\"command\":5}", 400, "the field 'command' must be a string"),
            ("{\"command\":\"hello\",\"positional\":\"world\"}", 400, "the field 'positional' must be a list of strings"),
            ("{\"command\":\"hello\",\"arguments\":{\"who\":1}}", 400, "the field 'arguments.who' must be a string"),
            ("[1,2]", 400, "the body must be a JSON object"),
            ("not json", 400, "the body is not valid JSON"),
        ]
        for (body, status, message) in cases {
            let reply = try await RawHTTP.send("POST", "\(box.url)/api/v1/jobs", headers: [("X-Meeseeks-As", "U_SRE")], body: body)
            #expect(reply.status == status, "\(body) → \(reply.status) \(reply.body)")
            if !message.isEmpty { #expect(reply.body == "{\"error\":\"\(message)\"}", "\(body)") }
            #expect(!reply.body.contains("CodingKeys") && !reply.body.contains("DecodingError"))
        }
        let event = try await RawHTTP.send("POST", "\(box.url)/api/v1/dialogs/x/events", body: "{\"event\":7}")
        #expect(event.status == 400 && !event.body.contains("CodingKeys"), "\(event.body)")
        try await expectAlive(box)
    }

    @Test("typed values never become metric labels: the series count stays flat")
    func metricsStayBounded() async throws {
        let (config, box) = try await box()
        defer { withExtendedLifetime(config) {} }
        let client = box.client(as: "U_SRE")
        func series() async throws -> Int {
            try await RawHTTP.send("GET", "\(box.url)/metrics").body.split(separator: "\n").filter { !$0.hasPrefix("#") }.count
        }
        _ = try await client.openDialog(text: "hello who=first-typo")
        let before = try await series()
        for n in 0..<40 { _ = try await client.openDialog(text: "hello who=typo-\(n)-\(UUID().uuidString)") }
        #expect(try await series() == before)
        let readyz = try await RawHTTP.send("GET", "\(box.url)/readyz")
        #expect(readyz.status == 200 && readyz.body.contains("\"store\":true"))
    }

    @Test("policy edges: channels hold over the API, the fleet view needs a role, impersonation is audited with both names")
    func policyEdges() async throws {
        let (config, box) = try await box()
        defer { withExtendedLifetime(config) {} }
        let restricted = try await box.cli(["run", "--as", "U_SRE", "ops"])
        #expect(restricted.status == 1 && restricted.stderr.contains("'ops' may only be requested in C_OPS"), "\(restricted.stderr)")
        // A non-admin cannot claim to be in the channel.
        let claimed = try await RawHTTP.send(
            "POST", "\(box.url)/api/v1/dialogs", headers: [("X-Meeseeks-As", "U_SRE")], body: "{\"text\":\"ops\",\"channel\":\"C_OPS\"}")
        #expect(claimed.body.contains("may only be requested in C_OPS"), "\(claimed.body)")

        let fleet = try await RawHTTP.send("GET", "\(box.url)/api/v1/agents", headers: [("X-Meeseeks-As", "U_NOBODY")])
        #expect(fleet.status == 403 && fleet.body.contains("U_NOBODY has no role"), "\(fleet.body)")
        let chat = try await box.client(as: "U_NOBODY").openDialog(text: "agents")
        guard case .notice(let notice) = chat.messages.last?.view else { throw TestFailure("no notice: \(chat.messages)") }
        #expect(notice.kind == .refused && notice.text.contains("has no role"))
        #expect(try await box.client(as: "U_SRE").agents().map(\.id) == ["local"])

        let audit = try await box.client(as: "U_ADMIN").audit(AuditQuery(user: "api", limit: 500))
        #expect(
            audit.contains { $0.record.action == .apiActedAs && $0.record.detail?.hasPrefix("as U_NOBODY: GET /api/v1/agents") == true })
        let denied = try await box.client(as: "U_ADMIN").audit(AuditQuery(user: "U_NOBODY", limit: 50))
        #expect(denied.filter { $0.record.action == .builtinDenied }.count == 2)
    }

    @Test("a file nested 200,000 levels deep is refused within seconds; duplicate keys stay linear; option injection is warned")
    func hostileConfiguration() async throws {
        let deep = "name: deep\nsummary: " + String(repeating: "[", count: 200_000) + "\n"
        let manyKeys =
            "name: keys\nsummary: k\nrun: [/bin/true]\nargs:\n  - name: a\n" + (0..<20_000).map { "    k\($0 % 10_000): v\n" }.joined()
        let injectable = "name: grep\nsummary: Grep\nrun: [/bin/grep, \"{{needle}}\", /var/log/syslog]\nargs: [{name: needle}]\n"
        let config = try ConfigDirectory([
            "commands.d/deep.yaml": deep, "commands.d/keys.yaml": manyKeys, "commands.d/grep.yaml": injectable,
            "policies.d/p.yaml": ConfigDirectory.policy,
        ])
        let started = Date()
        let process = try Spawned(Paths.binary("meeseeks"), ["lint", "--config", config.path])
        let status = try await process.exitStatus(timeout: 20)
        #expect(Date().timeIntervalSince(started) < 10)
        #expect(status == 1)
        #expect(
            process.stderr.contains("deep.yaml:2:") && process.stderr.contains("nested more than 64 levels"),
            "\(process.stderr.prefix(2000))")
        #expect(process.stderr.contains("more problems in this file are not shown"))
        #expect(process.stderr.contains("grep.yaml:3:") && process.stderr.contains("warning: '{{needle}}' is free text with no 'pattern'"))
    }
}
