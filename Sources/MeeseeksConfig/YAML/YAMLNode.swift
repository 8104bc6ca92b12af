/// A YAML node with the place it was written, built from libyaml's parser events.
public struct YAMLNode: Hashable, Sendable {
    public enum ScalarStyle: Hashable, Sendable {
        case plain, singleQuoted, doubleQuoted, literal, folded
    }

    public struct Pair: Hashable, Sendable {
        public var key: YAMLNode
        public var value: YAMLNode
    }

    public enum Kind: Hashable, Sendable {
        case scalar(String, ScalarStyle, tag: String?)
        case sequence([YAMLNode])
        case mapping([Pair])
    }

    public let kind: Kind
    public var position: SourcePosition
    /// Nodes in this tree, itself included; kept so alias expansion can be capped cheaply.
    public let size: Int
    /// Collections nested in this tree, itself included (0 for a scalar); kept so an alias cannot
    /// build a tree deeper than the parser accepts.
    public let depth: Int

    public init(_ kind: Kind, at position: SourcePosition) {
        self.kind = kind
        self.position = position
        switch kind {
        case .scalar:
            size = 1
            depth = 0
        case .sequence(let items):
            size = 1 + items.reduce(0) { $0 + $1.size }
            depth = 1 + items.reduce(0) { max($0, $1.depth) }
        case .mapping(let pairs):
            size = 1 + pairs.reduce(0) { $0 + $1.key.size + $1.value.size }
            depth = 1 + pairs.reduce(0) { max($0, $1.key.depth, $1.value.depth) }
        }
    }

    /// What a message calls this node: "a string", "a list", "a mapping", "a number".
    public var typeDescription: String {
        switch kind {
        case .sequence: "a list"
        case .mapping: "a mapping"
        case .scalar:
            switch resolved {
            case .null: "null"
            case .bool: "a boolean"
            case .int, .float: "a number"
            case .string: "a string"
            case .collection: "a collection"
            }
        }
    }
}

extension YAMLNode {
    /// A plain scalar's value under YAML 1.2's core schema; quoted and block scalars are strings.
    public enum Resolved: Hashable, Sendable {
        case null
        case bool(Bool)
        case int(Int)
        case float(Double)
        case string(String)
        /// A list or a mapping: not a scalar at all.
        case collection
    }

    public var resolved: Resolved {
        guard case .scalar(let text, let style, let tag) = kind else { return .collection }
        if tag == "tag:yaml.org,2002:str" || style != .plain { return .string(text) }
        switch text {
        case "", "~", "null", "Null", "NULL": return .null
        case "true", "True", "TRUE": return .bool(true)
        case "false", "False", "FALSE": return .bool(false)
        default: break
        }
        if let int = Int(text) { return .int(int) }
        if text.first?.isNumber == true || text.first == "-" || text.first == "+" || text.first == ".",
            let double = Double(text), !text.contains("_")
        {
            return .float(double)
        }
        return .string(text)
    }

    /// The scalar's text whatever its type, or nil for lists and mappings.
    public var scalarText: String? {
        if case .scalar(let text, _, _) = kind { return text }
        return nil
    }

    /// Where the scalar's content begins: one past the opening quote of a quoted scalar.
    public var contentPosition: SourcePosition {
        if case .scalar(_, let style, _) = kind, style == .singleQuoted || style == .doubleQuoted {
            return position.advanced(by: 1)
        }
        return position
    }
}
