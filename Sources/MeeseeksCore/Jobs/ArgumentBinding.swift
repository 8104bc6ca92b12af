public import MeeseeksConfig

/// Values given for a command's arguments, by position and by name, checked against its
/// declaration: the one place where a dialog's typed request and a direct API run bind them, so
/// both say the same thing about the same mistake.
public enum ArgumentBinding {
    /// Binds `positional` (in declaration order) then `named` into `answers`, each checked and
    /// normalised; returns the first problem in words, or nil.
    public static func bind(
        _ spec: CommandSpec, positional: [String], named: [(name: String, value: String)], into answers: inout [String: String]
    ) -> String? {
        let names = spec.arguments.map(\.name)
        if positional.count > names.count {
            let extra = positional[names.count...].joined(separator: " ")
            return "too many arguments for '\(spec.name)': \(extra) (it takes \(names.isEmpty ? "none" : names.joined(separator: ", ")))"
        }
        for (name, value) in zip(names, positional).map({ ($0, $1) }) + named {
            guard let argument = spec.argument(named: name) else { return "'\(spec.name)' has no argument '\(name)'" }
            if answers[name] != nil { return "'\(name)' is given twice" }
            if let problem = ArgumentValidation.problem(value, for: argument) { return "\(name): \(problem)" }
            answers[name] = normalized(value, argument)
        }
        return nil
    }

    /// Fills what was not given: a default, or empty for an optional argument; the first missing
    /// required one is a problem.
    public static func completed(_ spec: CommandSpec, _ answers: [String: String]) -> Result<[String: String], BindingProblem> {
        var complete = answers
        for argument in spec.arguments where complete[argument.name] == nil {
            if let value = argument.defaultValue {
                complete[argument.name] = value
            } else if argument.required {
                return .failure(BindingProblem(description: "\(argument.name) is required: \(argument.prompt)"))
            } else {
                complete[argument.name] = ""
            }
        }
        return .success(complete)
    }

    public static func normalized(_ value: String, _ argument: ArgumentSpec) -> String {
        argument.kind == .bool ? (ArgumentValidation.normalizedBool(value) ?? value) : value
    }
}

public struct BindingProblem: Error, Hashable, Sendable, CustomStringConvertible {
    public var description: String
}
