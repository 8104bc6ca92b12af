import MeeseeksConfig
import Testing

@Suite("The YAML layer over libyaml")
struct YAMLParserTests {
    func parse(_ text: String) -> YAMLParser.Result { YAMLParser.parse(text, file: "t.yaml") }

    func value(_ node: YAMLNode, _ key: String) -> YAMLNode? {
        guard case .mapping(let pairs) = node.kind else { return nil }
        return pairs.first { $0.key.scalarText == key }?.value
    }

    @Test("block and flow styles, comments, and positions")
    func stylesAndPositions() throws {
        let result = parse("# comment\na: 1   # trailing\nb: {c: [x, 'y', \"z\"]}\n")
        #expect(result.diagnostics.isEmpty)
        let root = try #require(result.documents.first)
        #expect(value(root, "a")?.resolved == .int(1))
        let b = try #require(value(root, "b"))
        #expect(b.position == SourcePosition(file: "t.yaml", line: 3, column: 4))
        guard case .sequence(let items) = value(b, "c")?.kind else {
            Issue.record("not a list")
            return
        }
        #expect(items.map(\.scalarText) == ["x", "y", "z"])
        #expect(items.map(\.position.column) == [9, 12, 17])
    }

    @Test("literal and folded block scalars")
    func blockScalars() throws {
        let root = try #require(parse("l: |\n  one\n  two\nf: >\n  one\n  two\n").documents.first)
        #expect(value(root, "l")?.scalarText == "one\ntwo\n")
        #expect(value(root, "f")?.scalarText == "one two\n")
    }

    @Test("quoted scalars stay strings; plain ones resolve by YAML 1.2's core schema")
    func resolution() throws {
        let root = try #require(parse("a: true\nb: 'true'\nc: 3\nd: \"3\"\ne: ~\nf: yes\ng: 1.5\n").documents.first)
        #expect(value(root, "a")?.resolved == .bool(true))
        #expect(value(root, "b")?.resolved == .string("true"))
        #expect(value(root, "c")?.resolved == .int(3))
        #expect(value(root, "d")?.resolved == .string("3"))
        #expect(value(root, "e")?.resolved == .null)
        #expect(value(root, "f")?.resolved == .string("yes"))
        #expect(value(root, "g")?.resolved == .float(1.5))
    }

    @Test("anchors and aliases expand")
    func aliases() throws {
        let root = try #require(parse("base: &b [x, y]\ncopy: *b\n").documents.first)
        #expect(value(root, "copy")?.kind == value(root, "base")?.kind)
        #expect(value(root, "copy")?.position.line == 2)
    }

    @Test("an alias bomb is refused, not expanded")
    func aliasBomb() {
        var text = "a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n"
        for i in 1...9 {
            let refs = Array(repeating: "*a\(i - 1)", count: 10).joined(separator: ", ")
            text += "a\(i): &a\(i) [\(refs)]\n"
        }
        let result = parse(text)
        #expect(result.diagnostics.map(\.code) == ["yaml-too-large"])
    }

    @Test("duplicate keys are reported")
    func duplicateKeys() {
        #expect(
            parse("a: 1\nb: 2\na: 3\n").diagnostics.map(\.description) == [
                "t.yaml:3:1: error: duplicate key 'a' (first defined at t.yaml:1:1)"
            ])
    }

    @Test("an unknown alias is an error at the alias")
    func unknownAlias() {
        #expect(parse("a: *nope\n").diagnostics.map(\.description).first?.hasPrefix("t.yaml:1:4: error") == true)
    }
}
