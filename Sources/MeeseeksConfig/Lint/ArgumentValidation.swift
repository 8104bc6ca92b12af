/// Whether a value is acceptable for an argument: the same check for defaults, prompts' answers
/// and typed requests.
public enum ArgumentValidation {
    /// Why `value` is not acceptable for `spec`, or nil when it is.
    public static func problem(_ value: String, for spec: ArgumentSpec) -> String? {
        if value.count > ArgumentSpec.maxValueLength {
            return "longer than \(ArgumentSpec.maxValueLength) characters"
        }
        if value.contains("\0") { return "contains a NUL character" }
        switch spec.kind {
        case .choice:
            if !spec.choices.contains(value) {
                return "'\(value)' is not one of \(spec.choices.joined(separator: ", "))"
            }
        case .int:
            guard let number = Int(value) else { return "'\(value)' is not a whole number" }
            if let min = spec.min, number < min { return "\(number) is below the minimum \(min)" }
            if let max = spec.max, number > max { return "\(number) is above the maximum \(max)" }
        case .bool:
            if normalizedBool(value) == nil { return "'\(value)' is not yes/no (true, false, yes, no)" }
        case .text:
            break
        }
        if let pattern = spec.pattern {
            guard case .success(let regex) = PatternCache.regex(pattern) else { return "the command's pattern is invalid" }
            // A match that throws (it cannot, for patterns without custom components) refuses the value.
            if (try? regex.wholeMatch(in: value)) == nil {
                let shown = spec.secret ? "the value" : "'\(value)'"
                return "\(shown) does not match the pattern \(pattern)"
            }
        }
        return nil
    }

    /// `true`/`yes`/`y`/`1` and their opposites, as `true` or `false`.
    public static func normalizedBool(_ value: String) -> String? {
        switch value.lowercased() {
        case "true", "yes", "y", "1", "on": "true"
        case "false", "no", "n", "0", "off": "false"
        default: nil
        }
    }
}
