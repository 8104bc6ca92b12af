import CYAML

/// Builds `YAMLNode` trees from libyaml's parser events.
///
/// Anchors and aliases are expanded (with a cap, so an alias bomb cannot exhaust memory), nesting
/// is capped, duplicate keys in a mapping are reported, and a syntax error is reported at libyaml's
/// position, converted from 0-based marks to 1-based lines and columns.
public enum YAMLParser {
    /// Documents and diagnostics for one file's text. A document that failed to parse is absent.
    public struct Result: Sendable {
        public var documents: [YAMLNode]
        public var diagnostics: [Diagnostic]
    }

    /// More nodes than this, counting alias expansions, is refused.
    static let maxNodes = 1_000_000

    /// Deeper nesting than this is refused, and parsing stops there: libyaml spends time in
    /// proportion to the depth on every token, so `[[[[…` 200,000 deep took minutes, and deep
    /// trees are freed recursively. A configuration needs a handful of levels.
    static let maxDepth = 64

    public static func parse(_ text: String, file: String) -> Result {
        var bytes = Array(text.utf8)
        return bytes.withUnsafeMutableBufferPointer { buffer in
            var builder = TreeBuilder(file: file)
            var parser = yaml_parser_t()
            guard yaml_parser_initialize(&parser) == 1 else {
                return Result(documents: [], diagnostics: [.error("yaml", at: .file(file), "could not start the YAML parser")])
            }
            defer { yaml_parser_delete(&parser) }
            yaml_parser_set_input_string(&parser, buffer.baseAddress, buffer.count)
            while true {
                var event = yaml_event_t()
                guard yaml_parser_parse(&parser, &event) == 1 else {
                    builder.diagnostics.append(syntaxError(parser, file: file))
                    return Result(documents: builder.documents, diagnostics: builder.diagnostics)
                }
                defer { yaml_event_delete(&event) }
                if event.type == YAML_STREAM_END_EVENT { break }
                if !builder.handle(event) { break }
            }
            return Result(documents: builder.documents, diagnostics: builder.diagnostics)
        }
    }

    private static func syntaxError(_ parser: yaml_parser_t, file: String) -> Diagnostic {
        let problem = parser.problem.map { String(cString: $0) } ?? "invalid YAML"
        let context = parser.context.map { String(cString: $0) }
        let mark = parser.problem_mark
        let position = SourcePosition(file: file, line: Int(mark.line) + 1, column: Int(mark.column) + 1)
        let message = context.map { "\(problem) (\($0))" } ?? problem
        return .error("yaml-syntax", at: position, "YAML syntax error: \(message)")
    }
}

/// Turns the event stream into nodes with a stack of open collections.
private struct TreeBuilder {
    /// A collection still open. It is changed where it lies on the stack: taking it off and
    /// putting it back copied its items on every added node, quadratic in a collection's size.
    struct Open {
        let isMapping: Bool
        let start: SourcePosition
        let anchor: String?
        var items: [YAMLNode] = []
        var pairs: [YAMLNode.Pair] = []
        var pendingKey: YAMLNode?
        /// Each scalar key's first position, so a duplicate is found in constant time.
        var keys: [String: SourcePosition] = [:]
    }

    let file: String
    var stack: [Open] = []
    var anchors: [String: YAMLNode] = [:]
    var documents: [YAMLNode] = []
    var diagnostics: [Diagnostic] = []
    var nodeCount = 0

    init(file: String) {
        self.file = file
    }

    func position(_ mark: yaml_mark_t) -> SourcePosition {
        SourcePosition(file: file, line: Int(mark.line) + 1, column: Int(mark.column) + 1)
    }

    /// Returns false when building must stop.
    mutating func handle(_ event: yaml_event_t) -> Bool {
        let at = position(event.start_mark)
        switch event.type {
        case YAML_SCALAR_EVENT:
            let scalar = event.data.scalar
            let text = string(scalar.value, length: scalar.length)
            let tag = scalar.tag.map { String(cString: $0) }
            let node = YAMLNode(.scalar(text, style(scalar.style), tag: tag), at: at)
            return add(node, anchor: scalar.anchor.map { String(cString: $0) })
        case YAML_SEQUENCE_START_EVENT:
            guard fits(depth: 1, at: at) else { return false }
            stack.append(Open(isMapping: false, start: at, anchor: event.data.sequence_start.anchor.map { String(cString: $0) }))
        case YAML_MAPPING_START_EVENT:
            guard fits(depth: 1, at: at) else { return false }
            stack.append(Open(isMapping: true, start: at, anchor: event.data.mapping_start.anchor.map { String(cString: $0) }))
        case YAML_SEQUENCE_END_EVENT, YAML_MAPPING_END_EVENT:
            guard let open = stack.popLast() else { return false }
            let kind: YAMLNode.Kind = open.isMapping ? .mapping(open.pairs) : .sequence(open.items)
            return add(YAMLNode(kind, at: open.start), anchor: open.anchor)
        case YAML_ALIAS_EVENT:
            let name = String(cString: event.data.alias.anchor)
            guard let target = anchors[name] else {
                diagnostics.append(.error("yaml-alias", at: at, "unknown anchor '\(name)'"))
                return false
            }
            guard fits(depth: target.depth, at: at) else { return false }
            var moved = target
            moved.position = at
            return add(moved, anchor: nil, expansion: target.size)
        default:
            break  // stream and document boundaries carry nothing we keep
        }
        return true
    }

    /// Whether `depth` more levels of collections fit under the open ones; reports when not.
    private mutating func fits(depth: Int, at position: SourcePosition) -> Bool {
        guard stack.count + depth > YAMLParser.maxDepth else { return true }
        diagnostics.append(
            .error("yaml-too-deep", at: position, "collections nested more than \(YAMLParser.maxDepth) levels deep"))
        return false
    }

    private mutating func add(_ node: YAMLNode, anchor: String?, expansion: Int = 1) -> Bool {
        nodeCount += expansion
        if nodeCount > YAMLParser.maxNodes {
            diagnostics.append(
                .error("yaml-too-large", at: node.position, "more than \(YAMLParser.maxNodes) nodes (after expanding aliases)"))
            return false
        }
        if let anchor { anchors[anchor] = node }
        guard !stack.isEmpty else {
            documents.append(node)
            return true
        }
        let top = stack.count - 1
        if !stack[top].isMapping {
            stack[top].items.append(node)
        } else if let key = stack[top].pendingKey {
            if let duplicate = Self.duplicate(key, in: &stack[top].keys) { diagnostics.append(duplicate) }
            stack[top].pairs.append(YAMLNode.Pair(key: key, value: node))
            stack[top].pendingKey = nil
        } else {
            stack[top].pendingKey = node
        }
        return true
    }

    /// Remembers `key` in `keys`, or says where it was first defined.
    private static func duplicate(_ key: YAMLNode, in keys: inout [String: SourcePosition]) -> Diagnostic? {
        guard let text = key.scalarText else { return nil }
        guard let first = keys[text] else {
            keys[text] = key.position
            return nil
        }
        return .error("duplicate-key", at: key.position, "duplicate key '\(text)' (first defined at \(first))")
    }

    private func string(_ pointer: UnsafeMutablePointer<yaml_char_t>?, length: Int) -> String {
        guard let pointer else { return "" }
        return String(decoding: UnsafeBufferPointer(start: pointer, count: length), as: UTF8.self)
    }

    private func style(_ style: yaml_scalar_style_t) -> YAMLNode.ScalarStyle {
        switch style {
        case YAML_SINGLE_QUOTED_SCALAR_STYLE: .singleQuoted
        case YAML_DOUBLE_QUOTED_SCALAR_STYLE: .doubleQuoted
        case YAML_LITERAL_SCALAR_STYLE: .literal
        case YAML_FOLDED_SCALAR_STYLE: .folded
        default: .plain
        }
    }
}
