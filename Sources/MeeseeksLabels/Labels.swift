/// Labels an agent carries, such as `env=prd,role=web`.
///
/// Matching depends only on this small interface (as Kubernetes' `labels.Labels`), so callers can
/// match a selector against whatever storage they keep.
public protocol Labels {
    func has(_ key: String) -> Bool
    func get(_ key: String) -> String?
}

/// The plain map of labels that agents register and users type.
public struct LabelSet: Labels, Hashable, Sendable, Codable, CustomStringConvertible {
    public var values: [String: String]

    public init(_ values: [String: String] = [:]) {
        self.values = values
    }

    public func has(_ key: String) -> Bool { values[key] != nil }
    public func get(_ key: String) -> String? { values[key] }

    /// `k=v,k=v` with keys sorted, so equal sets print alike.
    public var description: String {
        values.keys.sorted().map { "\($0)=\(values[$0]!)" }.joined(separator: ",")
    }

    /// Parses `k=v,k=v` as given on `mrmeeseeks --labels`, checking keys and values with the
    /// Kubernetes rules.
    ///
    /// - Throws: `LabelSetError` naming the first bad pair.
    public static func parse(_ text: String) throws(LabelSetError) -> LabelSet {
        var result: [String: String] = [:]
        let trimmed = text.trimmingSpaces
        if trimmed.isEmpty { return LabelSet() }
        for pair in trimmed.split(separator: ",", omittingEmptySubsequences: false) {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            guard parts.count == 2 else {
                throw LabelSetError(message: "'\(pair)' is not of the form key=value")
            }
            let key = String(parts[0]).trimmingSpaces
            let value = String(parts[1]).trimmingSpaces
            if let problem = LabelRules.keyProblem(key) {
                throw LabelSetError(message: "invalid label key '\(key)': \(problem)")
            }
            if let problem = LabelRules.valueProblem(value) {
                throw LabelSetError(message: "invalid label value '\(value)' for key '\(key)': \(problem)")
            }
            if result[key] != nil {
                throw LabelSetError(message: "label key '\(key)' is given twice")
            }
            result[key] = value
        }
        return LabelSet(result)
    }
}

extension LabelSet: ExpressibleByDictionaryLiteral {
    public init(dictionaryLiteral elements: (String, String)...) {
        self.init(Dictionary(elements, uniquingKeysWith: { _, last in last }))
    }
}

/// A `k=v,...` list that could not be read.
public struct LabelSetError: Error, Hashable, Sendable, CustomStringConvertible {
    public var message: String

    public init(message: String) {
        self.message = message
    }
    public var description: String { message }
}

extension String {
    var trimmingSpaces: String {
        var scalars = Substring(self)
        while let first = scalars.first, first.isWhitespace { scalars.removeFirst() }
        while let last = scalars.last, last.isWhitespace { scalars.removeLast() }
        return String(scalars)
    }
}
