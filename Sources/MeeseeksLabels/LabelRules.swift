/// Kubernetes' character rules for label keys and values (`apimachinery/pkg/util/validation`).
///
/// A key is an optional DNS-subdomain prefix and a slash, then a name of at most 63 characters:
/// alphanumerics at both ends, `-`, `_` and `.` between. A value is empty or such a name.
public enum LabelRules {
    static let maxNameLength = 63
    static let maxPrefixLength = 253

    /// Why `key` is not a valid label key, or nil when it is.
    public static func keyProblem(_ key: String) -> String? {
        if key.isEmpty { return "a key must not be empty" }
        let parts = key.split(separator: "/", omittingEmptySubsequences: false)
        switch parts.count {
        case 1:
            return nameProblem(Substring(key))
        case 2:
            if let problem = prefixProblem(parts[0]) { return "prefix part: \(problem)" }
            return nameProblem(parts[1]).map { "name part: \($0)" }
        default:
            return "a key is a name with an optional prefix and one '/' (e.g. 'example.com/role')"
        }
    }

    /// Why `value` is not a valid label value, or nil when it is.
    public static func valueProblem(_ value: String) -> String? {
        value.isEmpty ? nil : nameProblem(Substring(value))
    }

    static func nameProblem(_ name: Substring) -> String? {
        if name.isEmpty { return "must not be empty" }
        if name.count > maxNameLength { return "must be no more than \(maxNameLength) characters" }
        guard let first = name.first, let last = name.last, isAlphanumeric(first), isAlphanumeric(last) else {
            return "must begin and end with a letter or digit"
        }
        if let bad = name.first(where: { !isAlphanumeric($0) && $0 != "-" && $0 != "_" && $0 != "." }) {
            return "'\(bad)' is not allowed; use letters, digits, '-', '_' or '.'"
        }
        return nil
    }

    static func prefixProblem(_ prefix: Substring) -> String? {
        if prefix.isEmpty { return "must not be empty" }
        if prefix.count > maxPrefixLength { return "must be no more than \(maxPrefixLength) characters" }
        for label in prefix.split(separator: ".", omittingEmptySubsequences: false) {
            guard let first = label.first, let last = label.last, isLowerAlphanumeric(first),
                isLowerAlphanumeric(last), label.allSatisfy({ isLowerAlphanumeric($0) || $0 == "-" })
            else {
                return "must be a lowercase DNS subdomain such as 'example.com'"
            }
        }
        return nil
    }

    static func isAlphanumeric(_ c: Character) -> Bool {
        guard let a = c.asciiValue else { return false }
        return (a >= 48 && a <= 57) || (a >= 65 && a <= 90) || (a >= 97 && a <= 122)
    }

    static func isLowerAlphanumeric(_ c: Character) -> Bool {
        guard let a = c.asciiValue else { return false }
        return (a >= 48 && a <= 57) || (a >= 97 && a <= 122)
    }
}
