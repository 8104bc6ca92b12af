import Foundation
import MeeseeksConfig
import Testing

/// Lints a configuration directory made of `files` and returns the findings as `meeseeks lint`
/// prints them, with the directory prefix removed.
func lint(_ files: [String: String], policy: Bool = true) -> [String] {
    var all = files
    if policy, all["policies.d/base.yaml"] == nil {
        all["policies.d/base.yaml"] = "roles:\n  ops: {members: [U0OPS]}\ngrants:\n  - {roles: [ops], commands: [\"*\"]}\n"
    }
    let dir = TemporaryDirectory().write(all)
    return ConfigLoader.load(directory: dir.path).diagnostics.map {
        $0.description.replacingOccurrences(of: dir.path + "/", with: "")
    }
}

let hello = """
    name: hello
    summary: Say hello
    run: [/bin/echo, hi]

    """

@Suite("Every lint rule reports its exact position")
struct LintRuleTests {
    @Test("the shipped style of command is clean")
    func cleanCommand() {
        #expect(lint(["commands.d/hello.yaml": hello]) == [])
    }

    @Test("YAML syntax errors carry libyaml's position")
    func syntaxError() {
        #expect(
            lint(["commands.d/a.yaml": "name: [unclosed\n  foo: bar\n"], policy: false) == [
                "commands.d/a.yaml:2:6: error: YAML syntax error: did not find expected ',' or ']' (while parsing a flow sequence)"
            ])
    }

    @Test("a tab in indentation is a syntax error at its column")
    func tabIndentation() {
        let found = lint(["commands.d/a.yaml": "name: a\nargs:\n\t- name: x\n"], policy: false)
        #expect(found.count == 1)
        #expect(found[0].hasPrefix("commands.d/a.yaml:3:1: error: YAML syntax error"))
    }

    @Test("unknown keys suggest the nearest known key")
    func unknownKey() {
        #expect(
            lint(["commands.d/a.yaml": hello + "tiemout: 2m\n"]) == [
                "commands.d/a.yaml:4:1: error: unknown key 'tiemout' in a command; did you mean 'timeout'?"
            ])
    }

    @Test("unknown keys in nested mappings are found too")
    func unknownNestedKey() {
        let yaml = hello + "args:\n  - name: x\n    promt: X?\ntarget:\n  selectr: env\n"
        #expect(
            lint(["commands.d/a.yaml": yaml]) == [
                "commands.d/a.yaml:6:5: error: unknown key 'promt' in an argument; did you mean 'prompt'?",
                "commands.d/a.yaml:8:3: error: unknown key 'selectr' in 'target'; did you mean 'selector'?",
            ])
    }

    @Test("duplicate keys name the first occurrence")
    func duplicateKey() {
        #expect(
            lint(["commands.d/a.yaml": hello + "summary: again\n"]) == [
                "commands.d/a.yaml:4:1: error: duplicate key 'summary' (first defined at commands.d/a.yaml:2:1)"
            ])
    }

    @Test("wrong types say what was expected and found")
    func wrongTypes() {
        let yaml = hello + "two_factor: yes\nconcurrency: two\nargs: {name: x}\n"
        #expect(
            lint(["commands.d/a.yaml": yaml]) == [
                "commands.d/a.yaml:4:13: error: 'two_factor' must be true or false, found a string",
                "commands.d/a.yaml:5:14: error: 'concurrency' must be a whole number, found a string",
                "commands.d/a.yaml:6:7: error: 'args' must be a list of arguments, found a mapping",
            ])
    }

    @Test("missing required fields are reported at the mapping")
    func missingFields() {
        #expect(
            lint(["commands.d/a.yaml": "summary: x\nrun: [/bin/true]\n"], policy: false) == [
                "commands.d/a.yaml:1:1: error: a command is missing required key 'name'"
            ])
        #expect(
            lint(["commands.d/a.yaml": "name: a\nsummary: x\n"], policy: false) == [
                "commands.d/a.yaml:1:1: error: a command is missing required key 'run': give an argv list in 'run', or an inline 'script'"
            ])
    }

    @Test("duplicate command names across files name both places")
    func duplicateCommand() {
        #expect(
            lint(["commands.d/a.yaml": hello, "commands.d/b.yaml": hello]) == [
                "commands.d/b.yaml:1:7: error: command 'hello' is already defined at commands.d/a.yaml:1:7"
            ])
    }

    @Test("an invalid regular expression in pattern")
    func badPattern() {
        let yaml = hello + "args:\n  - name: x\n    pattern: '(['\n"
        #expect(
            lint(["commands.d/a.yaml": yaml]) == [
                "commands.d/a.yaml:6:14: error: invalid regular expression in 'pattern': expected custom character class members"
            ])
    }

    @Test("a default that is not among the choices")
    func defaultNotAChoice() {
        let yaml = hello + "args:\n  - name: x\n    choices: [a, b]\n    default: c\n"
        #expect(
            lint(["commands.d/a.yaml": yaml]) == [
                "commands.d/a.yaml:7:14: error: default 'c' is not among the choices (a, b)"
            ])
    }

    @Test("a default that fails the argument's own checks")
    func defaultFailsPattern() {
        let yaml = hello + "args:\n  - name: n\n    type: int\n    max: 5\n    default: 9\n"
        #expect(
            lint(["commands.d/a.yaml": yaml]) == [
                "commands.d/a.yaml:8:14: error: default '9' is not a valid value: 9 is above the maximum 5"
            ])
    }

    @Test("unknown placeholders in run and confirm")
    func unknownPlaceholders() {
        let yaml = """
            name: a
            summary: x
            run: ["/bin/echo", "--to={{servce}}"]
            confirm: "Run on {{targets}} for {{usr}}?"
            args:
              - name: service

            """
        #expect(
            lint(["commands.d/a.yaml": yaml]) == [
                "commands.d/a.yaml:3:26: error: unknown placeholder '{{servce}}' in 'run'; did you mean 'service'?",
                "commands.d/a.yaml:4:34: error: unknown placeholder '{{usr}}' in 'confirm'; did you mean 'user'?",
            ])
    }

    @Test("bad durations")
    func badDuration() {
        #expect(
            lint(["commands.d/a.yaml": hello + "timeout: 2 minutes\n"]) == [
                "commands.d/a.yaml:4:10: error: 'timeout' must be a duration such as 30s, 2m, 1h or 1h30m, found '2 minutes'"
            ])
    }

    @Test("invalid selectors point at the offending token")
    func badSelector() {
        #expect(
            lint(["commands.d/a.yaml": hello + "target:\n  selector: \"env in (a,\"\n"]) == [
                "commands.d/a.yaml:5:24: error: invalid selector in 'selector': found end of string, expected: identifier or ')'"
            ])
        #expect(
            lint(["commands.d/a.yaml": hello + "target:\n  selector: env==a==b\n"]) == [
                "commands.d/a.yaml:5:19: error: invalid selector in 'selector': found '==', expected: ',' or end of string"
            ])
    }

    @Test("grants that name unknown roles, and globs that match nothing")
    func grantProblems() {
        let policy = """
            roles:
              sre: {members: [U01SRE0001]}
            grants:
              - roles: [sre, srr]
                commands: [hello, "deploy-*"]
                on: "env = prd"

            """
        #expect(
            lint(["commands.d/a.yaml": hello, "policies.d/base.yaml": policy]) == [
                "policies.d/base.yaml:4:18: error: grant names unknown role 'srr'; did you mean 'sre'?",
                "policies.d/base.yaml:5:23: warning: 'deploy-*' matches no command",
            ])
    }

    @Test("commands that no role can run")
    func unreachableCommand() {
        let policy = "roles:\n  sre: {members: [U1]}\ngrants:\n  - {roles: [sre], commands: [other]}\n"
        let other = hello.replacingOccurrences(of: "hello", with: "other")
        #expect(
            lint(["commands.d/a.yaml": hello, "commands.d/b.yaml": other, "policies.d/base.yaml": policy]) == [
                "commands.d/a.yaml:1:7: warning: no grant lets any role member run 'hello'; add it to a grant in policies.d"
            ])
    }

    @Test("@handle members are a warning")
    func handleMembers() {
        let policy = "roles:\n  sre: {members: [U1, \"@rick\"]}\ngrants:\n  - {roles: [sre], commands: [\"*\"]}\n"
        #expect(
            lint(["commands.d/a.yaml": hello, "policies.d/base.yaml": policy]) == [
                "policies.d/base.yaml:2:23: warning: member '@rick' is a handle: handles can be changed by their owner; prefer the Slack user ID"
            ])
    }

    @Test("values beyond Slack's Block Kit limits")
    func slackLimits() {
        let choices = (1...101).map { "c\($0)" }.joined(separator: ", ")
        let yaml = """
            name: a
            summary: \(String(repeating: "s", count: 76))
            run: [/bin/true]
            args:
              - name: x
                choices: [\(choices)]
              - name: y
                prompt: \(String(repeating: "p", count: 3001))
              - name: z
                choices: [\(String(repeating: "o", count: 76))]

            """
        #expect(
            lint(["commands.d/a.yaml": yaml]) == [
                "commands.d/a.yaml:2:10: error: summary is 76 characters; a Slack button shows at most 75",
                "commands.d/a.yaml:6:14: error: 101 choices; a Slack menu holds at most 100",
                "commands.d/a.yaml:8:13: error: prompt is 3001 characters; Slack shows at most 3000 in a section",
                "commands.d/a.yaml:10:15: error: choice is 76 characters; Slack shows at most 75 in a button or menu option",
            ])
    }

    @Test("every file is checked and every finding reported in one run")
    func reportsEverything() {
        let found = lint([
            "commands.d/a.yaml": hello + "tiemout: 2m\n",
            "commands.d/b.yaml": "name: [\n",
            "commands.d/c.yaml": hello.replacingOccurrences(of: "hello", with: "c") + "timeout: soon\n",
        ])
        #expect(found.count == 3)
        #expect(found.map { $0.prefix(17) } == ["commands.d/a.yaml", "commands.d/b.yaml", "commands.d/c.yaml"])
    }
}

@Suite("meeseeks.yaml")
struct SettingsTests {
    @Test("settings are read, and their mistakes reported with positions")
    func settings() throws {
        let good = """
            persona:
              name: Mr Poopybutthole
              greeting: ["Ooh-wee!"]
            history: {retention: 30d}
            dialogs: {idle_timeout: 5m}
            agents: {lost_after: 20s}
            jobs: {output_limit: 4096}
            paths: {database: state/box.db}

            """
        let dir = TemporaryDirectory().write(["meeseeks.yaml": good, "commands.d/a.yaml": hello])
        let config = try #require(ConfigLoader.load(directory: dir.path).configuration)
        #expect(config.settings.persona.phrases(for: .greeting) == ["Ooh-wee!"])
        #expect(config.settings.persona.phrases(for: .done) == Persona.mrMeeseeks.phrases(for: .done))
        #expect(config.settings.historyRetention == 30 * 86_400)
        #expect(config.settings.dialogIdleTimeout == 300)
        #expect(config.settings.agentLostAfter == 20)
        #expect(config.settings.outputLimit == 4096)
        #expect(config.settings.paths.database == "state/box.db")

        let bad = "history: {retension: 30d}\ndialogs: {idle_timeout: soon}\njobs: {output_limit: 10}\n"
        #expect(
            lint(["meeseeks.yaml": bad, "commands.d/a.yaml": hello]) == [
                "meeseeks.yaml:1:11: error: unknown key 'retension' in 'history'; did you mean 'retention'?",
                "meeseeks.yaml:2:25: error: 'idle_timeout' must be a duration such as 30s, 2m, 1h or 1h30m, found 'soon'",
                "meeseeks.yaml:3:8: error: 'output_limit' must be at least 1024 bytes",
            ])
    }
}

@Suite("Alias and preset lint")
struct AliasLintTests {
    func lint(_ files: [String: String]) throws -> [Diagnostic] {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("alias-\(UUID().uuidString)").path
        for (name, text) in files {
            let path = "\(directory)/\(name)"
            try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            try text.write(toFile: path, atomically: true, encoding: .utf8)
        }
        defer { try? FileManager.default.removeItem(atPath: directory) }
        return ConfigLoader.load(directory: directory).diagnostics
    }

    static let policy = "roles:\n  sre: {members: [U1]}\ngrants:\n  - {roles: [sre], commands: ['*']}\n"

    @Test("collisions, built-ins, chains and presets that could not run are errors")
    func problems() throws {
        let diagnostics = try lint([
            "commands.d/restart.yaml":
                "name: restart\nsummary: R\nrun: [/bin/true, '{{service}}']\nargs: [{name: service, choices: [nginx]}]\naliases: [rs, help, deploy]\n",
            "commands.d/deploy.yaml": "name: deploy\nsummary: D\nrun: [/bin/true]\naliases: rs\n",
            "meeseeks.yaml": "aliases:\n  fast: rs nginx\n  nope: restart service=apache\n  ghost: vanish\n  odd: restart colour=red\n",
            "policies.d/p.yaml": Self.policy,
        ])
        let errors = diagnostics.filter { $0.severity == .error }.map(\.message)
        #expect(errors.contains { $0.contains("'help' is a built-in") })
        #expect(errors.contains { $0.contains("'deploy' is already the name of a command") })
        #expect(errors.contains { $0.contains("'rs' is already the alias of '") })
        #expect(errors.contains { $0.contains("preset 'fast' stands for 'rs', which is itself an alias") })
        #expect(errors.contains { $0.contains("preset 'nope': service:") })
        #expect(errors.contains { $0.contains("preset 'ghost' stands for 'vanish', which is not a command") })
        #expect(errors.contains { $0.contains("preset 'odd' names 'colour'") })
    }
}
