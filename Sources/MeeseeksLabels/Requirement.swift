/// One clause of a selector: a key, an operator and its values.
public struct Requirement: Hashable, Sendable {
    public enum Operator: String, Hashable, Sendable, CaseIterable {
        case equals = "="
        case doubleEquals = "=="
        case notEquals = "!="
        case `in` = "in"
        case notIn = "notin"
        case exists = "exists"
        case doesNotExist = "!"
    }

    public let key: String
    public let op: Operator
    /// Sorted and unique, so printing is deterministic.
    public let values: [String]

    public init(key: String, op: Operator, values: [String] = []) {
        self.key = key
        self.op = op
        self.values = Array(Set(values)).sorted()
    }

    /// Kubernetes semantics: `!=` and `notin` also match agents without the key.
    public func matches(_ labels: some Labels) -> Bool {
        switch op {
        case .equals, .doubleEquals, .in:
            guard let value = labels.get(key) else { return false }
            return values.contains(value)
        case .notEquals, .notIn:
            guard let value = labels.get(key) else { return true }
            return !values.contains(value)
        case .exists:
            return labels.has(key)
        case .doesNotExist:
            return !labels.has(key)
        }
    }
}

extension Requirement: CustomStringConvertible {
    public var description: String {
        switch op {
        case .exists: key
        case .doesNotExist: "!\(key)"
        case .equals, .doubleEquals, .notEquals: "\(key)\(op.rawValue)\(values.first ?? "")"
        case .in, .notIn: "\(key) \(op.rawValue) (\(values.joined(separator: ",")))"
        }
    }
}
