/// A Kubernetes label selector: requirements joined by AND.
///
/// ```swift
/// let selector = try LabelSelector("env in (stg, prd), role = web")
/// selector.matches(LabelSet(["env": "stg", "role": "web"]))  // true
/// ```
public struct LabelSelector: Hashable, Sendable {
    /// Sorted by key, so `a=x,x=a` and `x=a,a=x` are the same selector.
    public let requirements: [Requirement]

    public init(_ requirements: [Requirement]) {
        self.requirements = Set(requirements).sorted {
            ($0.key, $0.op.rawValue, $0.description) < ($1.key, $1.op.rawValue, $1.description)
        }
    }

    /// Matches every label set.
    public static let everything = LabelSelector([])

    public var isEverything: Bool { requirements.isEmpty }

    public func matches(_ labels: some Labels) -> Bool {
        requirements.allSatisfy { $0.matches(labels) }
    }

    /// The conjunction of two selectors.
    public func and(_ other: LabelSelector) -> LabelSelector {
        LabelSelector(requirements + other.requirements)
    }

    /// Parses a selector, throwing the first error found.
    public init(_ text: String) throws(SelectorError) {
        let parsed = LabelSelector.parse(text)
        if let first = parsed.errors.first { throw first }
        self = parsed.selector!
    }

    /// Parses a selector and returns every error found.
    ///
    /// The grammar, after Kubernetes' `labels.Parse`:
    ///
    ///     <selector>    ::= "" | <requirement> | <requirement> "," <selector>
    ///     <requirement> ::= ["!"] KEY [ <set-based> | <exact-match> ]
    ///     <set-based>   ::= ("in" | "notin") "(" <values> ")"
    ///     <values>      ::= VALUE | VALUE "," <values>
    ///     <exact-match> ::= ("=" | "==" | "!=") VALUE
    ///
    /// KEY and VALUE follow Kubernetes' character rules. A syntax error ends parsing; invalid keys and
    /// values are all collected, each with the offset of its token.
    public static func parse(_ text: String) -> (selector: LabelSelector?, errors: [SelectorError]) {
        var parser = SelectorParser(text)
        return parser.parse()
    }
}

extension LabelSelector: CustomStringConvertible {
    /// The normalised form: requirements sorted by key, values sorted.
    public var description: String {
        requirements.map(\.description).joined(separator: ",")
    }
}

/// A selector problem at a 0-based offset (in characters) into the selector text.
public struct SelectorError: Error, Hashable, Sendable, CustomStringConvertible {
    public var offset: Int
    public var message: String

    public init(offset: Int, message: String) {
        self.offset = offset
        self.message = message
    }

    /// `1:COLUMN: MESSAGE`, the selector read as a single line.
    public var description: String { "1:\(offset + 1): \(message)" }
}
