import MeeseeksConfig
import MeeseeksCore
import MeeseeksSlack
import Testing

@Suite("Block Kit limits are enforced")
struct BlockKitLimitTests {
    static func section(_ text: String) -> JSON { ["type": "section", "text": ["type": "mrkdwn", "text": .string(text)]] }
    static func button(_ text: String, value: String = "v", id: String = "a") -> JSON {
        ["type": "button", "text": ["type": "plain_text", "text": .string(text)], "action_id": .string(id), "value": .string(value)]
    }
    static func s(_ n: Int) -> String { String(repeating: "x", count: n) }

    /// Each limit: a block just over it, and the violation the validator reports.
    @Test(
        "each limit of the table",
        arguments: [
            (JSON.array(Array(repeating: section("a"), count: 51)), "blocks: 51 > 50"),
            (.array([section(s(3001))]), "blocks[0].text: 3001 > 3000"),
            (.array([section("")]), "blocks[0].text: 0 < 1"),
            (
                .array([["type": "section", "fields": .array(Array(repeating: ["type": "mrkdwn", "text": "f"] as JSON, count: 11))]]),
                "blocks[0].fields: 11 > 10"
            ),
            (.array([["type": "section", "fields": [["type": "mrkdwn", "text": .string(s(2001))]]]]), "blocks[0].fields[0]: 2001 > 2000"),
            (
                .array([["type": "section", "block_id": .string(s(256)), "text": ["type": "mrkdwn", "text": "a"]]]),
                "blocks[0].block_id: 256 > 255"
            ),
            (.array([["type": "actions", "elements": [button(s(76))]]]), "blocks[0].elements[0].text: 76 > 75"),
            (.array([["type": "actions", "elements": [button("a", value: s(2001))]]]), "blocks[0].elements[0].value: 2001 > 2000"),
            (.array([["type": "actions", "elements": [button("a", id: s(256))]]]), "blocks[0].elements[0].action_id: 256 > 255"),
            (
                .array([["type": "actions", "elements": [button("a"), button("b")]]]),
                "blocks[0].elements[1].action_id: 'a' is not unique in its block"
            ),
            (.array([["type": "actions", "elements": .array((0..<26).map { button("b", id: "a\($0)") })]]), "blocks[0].elements: 26 > 25"),
            (
                .array([
                    [
                        "type": "section", "text": ["type": "mrkdwn", "text": "a"],
                        "accessory": [
                            "type": "static_select", "action_id": "s",
                            "placeholder": ["type": "plain_text", "text": "p"],
                            "options": .array(
                                (0..<101).map { ["text": ["type": "plain_text", "text": .string("o\($0)")], "value": .string("\($0)")] }),
                        ],
                    ]
                ]),
                "blocks[0].accessory.options: 101 > 100"
            ),
            (
                .array([
                    [
                        "type": "section", "text": ["type": "mrkdwn", "text": "a"],
                        "accessory": [
                            "type": "static_select", "action_id": "s",
                            "placeholder": ["type": "plain_text", "text": .string(s(151))],
                            "options": [["text": ["type": "plain_text", "text": .string(s(76))], "value": .string(s(151))]],
                        ],
                    ]
                ]),
                "blocks[0].accessory.placeholder: 151 > 150"
            ),
            (
                .array([
                    [
                        "type": "input", "label": ["type": "plain_text", "text": "l"],
                        "element": ["type": "plain_text_input", "action_id": "i", "max_length": 3001],
                    ]
                ]),
                "blocks[0].element.max_length: 3001 outside 1…3000"
            ),
            (.array([["type": "header", "text": ["type": "plain_text", "text": .string(s(151))]]]), "blocks[0].text: 151 > 150"),
            (
                .array([["type": "context", "elements": .array(Array(repeating: ["type": "mrkdwn", "text": "c"] as JSON, count: 11))]]),
                "blocks[0].elements: 11 > 10"
            ),
            (.array([["type": "video"]]), "blocks[0].type: 'video' is not a block type the box sends"),
        ])
    func limit(blocks: JSON, violation: String) {
        #expect(BlockKitLimits.violations(of: blocks.array!, on: .message).contains(violation))
    }

    @Test("option text, value and description limits")
    func optionLimits() {
        let select: JSON = [
            "type": "section", "text": ["type": "mrkdwn", "text": "a"],
            "accessory": [
                "type": "static_select", "action_id": "s", "placeholder": ["type": "plain_text", "text": "p"],
                "options": [
                    [
                        "text": ["type": "plain_text", "text": .string(Self.s(76))], "value": .string(Self.s(151)),
                        "description": ["type": "plain_text", "text": .string(Self.s(76))],
                    ]
                ],
            ],
        ]
        #expect(
            BlockKitLimits.violations(of: [select], on: .message) == [
                "blocks[0].accessory.options[0].text: 76 > 75", "blocks[0].accessory.options[0].value: 151 > 150",
                "blocks[0].accessory.options[0].description: 76 > 75",
            ])
    }

    @Test("modal limits")
    func modal() {
        let view: JSON = [
            "type": "modal", "title": ["type": "plain_text", "text": .string(Self.s(25))],
            "close": ["type": "plain_text", "text": .string(Self.s(25))], "private_metadata": .string(Self.s(3001)),
            "blocks": [
                [
                    "type": "input", "label": ["type": "plain_text", "text": "l"],
                    "element": ["type": "plain_text_input", "action_id": "i"],
                ]
            ],
        ]
        #expect(
            BlockKitLimits.violations(ofModal: view) == [
                "view.title: 25 > 24", "view.close: 25 > 24", "view.private_metadata: 3001 > 3000",
                "view.submit: required with input blocks",
            ])
        #expect(BlockKitLimits.violations(of: Array(repeating: Self.section("a"), count: 101), on: .modal) == ["blocks: 101 > 100"])
    }

    @Test("confirm objects need all four parts within their lengths")
    func confirmObject() {
        var button = Self.button("a")
        button["confirm"] = [
            "title": ["type": "plain_text", "text": .string(Self.s(101))], "text": ["type": "mrkdwn", "text": "t"],
            "confirm": ["type": "plain_text", "text": .string(Self.s(31))],
        ]
        #expect(
            BlockKitLimits.violations(of: [["type": "actions", "elements": [button]]], on: .message) == [
                "blocks[0].elements[0].confirm.title: 101 > 100", "blocks[0].elements[0].confirm.confirm: 31 > 30",
                "blocks[0].elements[0].confirm.deny: missing",
            ])
    }
}

@Suite("The renderer stays within the limits whatever it is given")
struct BlockKitRendererTests {
    let renderer = BlockKitRenderer(phrases: .first(.mrMeeseeks))
    static let long = String(repeating: "é<&>", count: 2000)

    func check(_ view: DialogView) {
        let message = renderer.render(view)
        #expect(BlockKitLimits.violations(of: message.blocks, on: .message) == [], "\(view)")
        #expect(message.text.count <= SlackLimits.messageText)
    }

    @Test("menus of every size, up to option groups past 100")
    func menus() {
        for count in [0, 1, 5, 6, 100, 101, 2500] {
            let commands = (0..<count).map { DialogView.CommandEntry(name: "command-\($0)-\(Self.long.prefix(80))", summary: Self.long) }
            check(.menu(.init(dialogID: "d", step: 1, user: "U1", commands: commands)))
        }
        let many = (0..<250).map { DialogView.CommandEntry(name: "c\($0)", summary: "s") }
        let blocks = renderer.render(.menu(.init(dialogID: "d", step: 1, user: "U1", commands: many))).blocks
        #expect(blocks[1]["accessory"]?["option_groups"]?.array?.count == 3)
    }

    @Test("prompts, confirmations, challenges, results and notices with oversized content")
    func everything() {
        for kind in ArgumentSpec.Kind.allCases {
            for choices in [[], ["a", "b"], (0..<150).map { "choice-\($0)-\(Self.long.prefix(100))" }] {
                check(
                    .prompt(
                        .init(
                            dialogID: "d", step: 2, command: Self.long, argument: "a", question: Self.long, kind: kind,
                            choices: choices, defaultValue: Self.long, required: false, secret: false, error: Self.long)))
            }
        }
        check(
            .confirm(
                .init(
                    dialogID: "d", step: 3, command: "c", text: Self.long, arguments: Array(repeating: Self.long, count: 30),
                    targets: Array(repeating: "agent", count: 500), destructive: true)))
        check(.challenge(.init(dialogID: "d", step: 4, command: Self.long, error: Self.long)))
        let report = JobReport(
            jobID: 1, command: "c", status: .failed, exitCode: 2, reason: Self.long, output: Self.long + Self.long, truncated: true,
            perAgent: (0..<80).map { .init(agent: "agent-\($0)", jobID: Int64($0), status: .succeeded, exitCode: 0, output: Self.long) })
        check(.result(.init(user: "U1", report: report)))
        check(
            .result(
                .init(
                    user: "U1",
                    report: JobReport(jobID: 1, command: "c", status: .succeeded, output: Self.long + Self.long, truncated: true))))
        check(.notice(.init(.info, Self.long + "\n" + Self.long)))
        check(.help(.init(commands: (0..<500).map { .init(name: "c\($0)", summary: Self.long) }, builtins: [])))
        #expect(
            BlockKitLimits.violations(
                ofModal: renderer.codeModal(.init(dialogID: String(repeating: "d", count: 200), step: 9, command: "c", error: Self.long)))
                == [])
    }

    @Test("output keeps its end and says how to get the rest")
    func truncatedOutput() {
        let output = (0..<2000).map { "line \($0)" }.joined(separator: "\n")
        let message = renderer.render(
            .result(.init(user: "U1", report: JobReport(jobID: 7, command: "c", status: .succeeded, output: output, truncated: true))))
        let text = message.blocks[1]["text"]?["text"]?.string ?? ""
        #expect(text.contains("line 1999"))
        #expect(text.contains("`meeseeks logs 7` prints it all"))
    }
}
