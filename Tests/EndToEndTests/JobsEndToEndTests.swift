import Foundation
import MeeseeksAPI
import MeeseeksClient
import MeeseeksCore
import Testing

let helloCommand = """
    name: hello
    summary: Say hello
    run: ["/bin/echo", "Hello, {{who}}!"]
    args:
      - name: who
        prompt: Who?
        choices: [world, Rick]
    confirm: "Greet {{who}} on {{targets}}?"

    """

@Suite("The box runs jobs end to end over HTTP", .serialized)
struct JobsEndToEndTests {
    @Test("the whole dialog: greeting, pick, prompt, confirm, Can do!, All done! with the output")
    func fullDialog() async throws {
        let config = try ConfigDirectory(["commands.d/hello.yaml": helloCommand, "policies.d/p.yaml": ConfigDirectory.policy])
        let box = try await BoxProcess(directory: config.path)
        let client = box.client(as: "U_DEV")

        var state = try await client.openDialog(text: "")
        guard case .menu(let menu) = state.messages.last?.view else { throw TestFailure("no menu: \(state.messages)") }
        #expect(menu.commands.map(\.name) == ["hello"])
        #expect(state.messages.last?.text.contains("Look at me!") == true)

        state = try await client.send(DialogInput(.picked(command: "hello"), step: menu.step), to: state.id)
        guard case .prompt(let prompt) = state.messages.last?.view else { throw TestFailure("no prompt: \(state.messages)") }
        #expect(prompt.choices == ["world", "Rick"])

        state = try await client.send(DialogInput(.answered(value: "Rick"), step: prompt.step), to: state.id)
        guard case .confirm(let confirm) = state.messages.last?.view else { throw TestFailure("no confirm: \(state.messages)") }
        #expect(confirm.text == "Greet Rick on local?")

        // A second click on the used prompt button is refused and changes nothing.
        let stale = try await client.send(DialogInput(.answered(value: "world"), step: prompt.step), to: state.id)
        guard case .notice(let notice) = stale.messages.last?.view else { throw TestFailure("no notice") }
        #expect(notice.kind == .stale)

        state = try await client.send(DialogInput(.confirmed(true), step: confirm.step), to: state.id)
        guard case .accepted(let accepted) = state.messages.last?.view else { throw TestFailure("no accepted: \(state.messages)") }
        #expect(state.messages.last?.text.contains("Can do!") == true)

        let result = try await waitForResult(client, state)
        #expect(result.report.jobID == accepted.jobID)
        #expect(result.report.status == .succeeded)
        #expect(result.report.output == "Hello, Rick!\n")
        let detail = try await client.job(accepted.jobID)
        #expect(detail.job.arguments == ["who": "Rick"])
    }

    @Test("meeseeks chat walks greeting, pick, prompt, confirm and All done! in the terminal")
    func terminalChat() async throws {
        let config = try ConfigDirectory(["commands.d/hello.yaml": helloCommand, "policies.d/p.yaml": ConfigDirectory.policy])
        let box = try await BoxProcess(directory: config.path)
        let chat = try await box.cli(["chat", "--as", "U_DEV"], stdin: "1\n2\nyes\n")
        #expect(chat.status == 0, "\(chat.stderr)")
        let lines = chat.stdout.split(separator: "\n").map(String.init)
        #expect(lines.first?.hasSuffix("Look at me! What can I do for you?") == true)
        #expect(lines.contains("  1. hello — Say hello"))
        #expect(lines.contains("> Who?"))
        #expect(lines.contains("> Greet Rick on local?"))
        #expect(lines.contains { $0.contains("Can do! (job #1)") })
        #expect(lines.contains { $0.hasPrefix("@U_DEV All done!") })
        #expect(lines.last == "    Hello, Rick!")
    }

    @Test("a typed request skips answered prompts but not the confirmation")
    func typedRequest() async throws {
        let config = try ConfigDirectory(["commands.d/hello.yaml": helloCommand, "policies.d/p.yaml": ConfigDirectory.policy])
        let box = try await BoxProcess(directory: config.path)
        let client = box.client(as: "U_DEV")
        let state = try await client.openDialog(text: "hello who=world -l agent=local")
        guard case .confirm(let confirm) = state.messages.last?.view else { throw TestFailure("no confirm: \(state.messages)") }
        #expect(confirm.arguments == ["who=world"])
    }

    @Test("a request the policy refuses says why, and runs nothing")
    func policyRefusal() async throws {
        let config = try ConfigDirectory([
            "commands.d/hello.yaml": helloCommand,
            "commands.d/other.yaml": "name: other\nsummary: x\nrun: [/bin/true]\n",
            "policies.d/p.yaml": ConfigDirectory.policy,
        ])
        let box = try await BoxProcess(directory: config.path)
        let state = try await box.client(as: "U_DEV").openDialog(text: "other")
        guard case .notice(let notice) = state.messages.last?.view else { throw TestFailure("no notice") }
        #expect(notice.kind == .refused)
        #expect(notice.text == "no grant lets your roles (dev) run 'other'")
        let nobody = try await box.cli(["run", "--as", "U_NOBODY", "hello", "world"])
        #expect(nobody.status == 1)
        #expect(nobody.stderr.contains("U_NOBODY has no role in the policy, so may run nothing (default deny)"))
        #expect(try await box.client(as: "U_ADMIN").jobs(limit: 10, all: true).isEmpty)
    }

    @Test("bad input gets a clear message and changes nothing")
    func badInput() async throws {
        let config = try ConfigDirectory(["commands.d/hello.yaml": helloCommand, "policies.d/p.yaml": ConfigDirectory.policy])
        let box = try await BoxProcess(directory: config.path)
        let client = box.client(as: "U_DEV")
        let cases: [(String, String)] = [
            ("nope", "there is no command 'nope'; say 'help' to see what you can run"),
            ("hello who=Morty", "who: 'Morty' is not one of world, Rick"),
            ("hello world extra", "too many arguments for 'hello': extra (it takes who)"),
            ("hello \"world", "I couldn't read that: unbalanced \" quote: close it, or escape it with a backslash."),
        ]
        for (text, message) in cases {
            let state = try await client.openDialog(text: text)
            guard case .notice(let notice) = state.messages.last?.view else { throw TestFailure("no notice for \(text)") }
            #expect(notice.text == message, "for \(text)")
        }
        let wrongToken = BoxClient(baseURL: box.url, token: "wrong", actingAs: nil)
        await #expect(throws: BoxClient.Failure.self) { try await wrongToken.jobs(limit: 1, all: false) }
        let cli = try await box.cli(["logs", "--as", "U_DEV", "999"])
        #expect(cli.status == 1)
        #expect(cli.stderr == "meeseeks: there is no job #999 of yours\n")
        #expect(try await box.client(as: "U_ADMIN").jobs(limit: 10, all: true).isEmpty)
    }

    @Test("concurrency: 1 holds the second job queued until the first ends")
    func concurrencyQueues() async throws {
        let slow = """
            name: slow
            summary: Sleep a little
            run: ["/bin/sh", "-c", "sleep 1; echo done"]
            concurrency: 1

            """
        let config = try ConfigDirectory(["commands.d/slow.yaml": slow, "policies.d/p.yaml": ConfigDirectory.policy])
        let box = try await BoxProcess(directory: config.path)
        let client = box.client(as: "U_SRE")
        let first = try await client.run(API.RunRequest(command: "slow"))
        let second = try await client.run(API.RunRequest(command: "slow"))
        try await Task.sleep(for: .milliseconds(300))
        #expect(try await client.job(first.id).job.status == .running)
        #expect(try await client.job(second.id).job.status == .queued)
        let done = try await waitForJob(client, first.id)
        #expect(done.status == .succeeded)
        let later = try await waitForJob(client, second.id)
        #expect(later.status == .succeeded)
        #expect(later.startedAt! >= done.finishedAt!)
    }

    @Test("a chatty script's output is stored in order")
    func chattyOutput() async throws {
        let chatty = """
            name: chatty
            summary: Print a lot
            script: |
              #!/bin/sh
              i=0
              while [ $i -lt 20000 ]; do echo "line $i"; echo "err $i" >&2; i=$((i+1)); done

            """
        let config = try ConfigDirectory(["commands.d/chatty.yaml": chatty, "policies.d/p.yaml": ConfigDirectory.policy])
        let box = try await BoxProcess(directory: config.path)
        let run = try await box.cli(["run", "--as", "U_SRE", "chatty"])
        #expect(run.status == 0)
        let expected = (0..<20000).map { "line \($0)\nerr \($0)\n" }.joined()
        #expect(run.stdout == expected)
    }

    @Test("a job that fails reports its exit status; the CLI exits with it")
    func failingJob() async throws {
        let failing = "name: failing\nsummary: Fail\nrun: [/bin/sh, -c, \"echo oops; exit 3\"]\n"
        let config = try ConfigDirectory(["commands.d/f.yaml": failing, "policies.d/p.yaml": ConfigDirectory.policy])
        let box = try await BoxProcess(directory: config.path)
        let run = try await box.cli(["run", "--as", "U_SRE", "failing"])
        #expect(run.status == 3)
        #expect(run.stdout == "oops\n")
    }
}

func waitForJob(_ client: BoxClient, _ id: Int64, timeout: Double = 30) async throws -> Job {
    let deadline = Date().addingTimeInterval(timeout)
    while Date() < deadline {
        let job = try await client.job(id).job
        if job.status.isFinal { return job }
        try await Task.sleep(for: .milliseconds(50))
    }
    throw TestFailure("job #\(id) did not end")
}

func waitForResult(_ client: BoxClient, _ state: API.DialogState) async throws -> DialogView.Result {
    var seq = state.messages.last?.seq ?? 0
    let deadline = Date().addingTimeInterval(30)
    while Date() < deadline {
        let next = try await client.messages(of: state.id, after: seq, wait: 5)
        for message in next.messages {
            seq = max(seq, message.seq)
            if case .result(let result) = message.view { return result }
        }
    }
    throw TestFailure("no result")
}
