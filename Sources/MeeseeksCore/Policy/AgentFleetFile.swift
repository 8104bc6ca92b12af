public import MeeseeksConfig
import MeeseeksLabels

/// A fleet written down, for `meeseeks policy explain --agents FILE`: a YAML (or JSON) list of
/// agents, each with its `id`, its `labels` and the `commands` it accepts, as `mrmeeseeks
/// --labels` and `--commands` would register them.
///
/// ```yaml
/// - id: web-1
///   labels: {env: prd, role: web}       # or "env=prd,role=web"
///   commands: [restart, "deploy-*"]     # or "restart,deploy-*"; absent: every command
/// - id: db-1
///   labels: {env: prd, role: db}
/// ```
public enum AgentFleetFile {
    /// Reads the agents in `text`, checking labels with the Kubernetes rules.
    ///
    /// - Parameters:
    ///   - text: the file's content; JSON is read as the YAML it also is.
    ///   - file: the path, for positions in diagnostics.
    /// - Returns: the agents that could be read and every problem found; any error makes the fleet unusable.
    public static func parse(_ text: String, file: String) -> (agents: [AgentInfo], diagnostics: [Diagnostic]) {
        let parsed = YAMLParser.parse(text, file: file)
        var diagnostics = parsed.diagnostics
        guard !diagnostics.hasErrors else { return ([], diagnostics) }
        guard let document = parsed.documents.first else { return ([], diagnostics) }
        guard case .sequence(let items) = document.kind else {
            diagnostics.append(
                .error(
                    "wrong-type", at: document.position,
                    "a fleet file is a list of agents (id, labels, commands), found \(document.typeDescription)"))
            return ([], diagnostics)
        }
        var agents: [AgentInfo] = []
        var seen: [String: SourcePosition] = [:]
        for item in items {
            guard let agent = decodeAgent(item, diagnostics: &diagnostics) else { continue }
            if let first = seen[agent.id] {
                diagnostics.append(
                    .error("duplicate-agent", at: item.position, "agent '\(agent.id)' is already listed at \(first)"))
                continue
            }
            seen[agent.id] = item.position
            agents.append(agent)
        }
        return (agents, diagnostics)
    }

    private static func decodeAgent(_ node: YAMLNode, diagnostics: inout [Diagnostic]) -> AgentInfo? {
        guard case .mapping(let pairs) = node.kind else {
            diagnostics.append(
                .error("wrong-type", at: node.position, "an agent is a mapping with id, labels and commands"))
            return nil
        }
        var id: String?
        var labels = LabelSet()
        var commands = ["*"]
        var valid = true
        for pair in pairs {
            switch pair.key.scalarText {
            case "id":
                guard let text = pair.value.scalarText, !text.isEmpty else {
                    diagnostics.append(.error("wrong-type", at: pair.value.position, "'id' must be a non-empty string"))
                    valid = false
                    continue
                }
                id = text
            case "labels":
                guard let decoded = decodeLabels(pair.value, diagnostics: &diagnostics) else {
                    valid = false
                    continue
                }
                labels = decoded
            case "commands":
                guard let decoded = decodeCommands(pair.value, diagnostics: &diagnostics) else {
                    valid = false
                    continue
                }
                commands = decoded
            default:
                diagnostics.append(
                    .error(
                        "unknown-key", at: pair.key.position,
                        "unknown key '\(pair.key.scalarText ?? pair.key.typeDescription)' in an agent; "
                            + "expected id, labels or commands"))
                valid = false
            }
        }
        guard let id else {
            diagnostics.append(.error("missing-key", at: node.position, "an agent needs an 'id'"))
            return nil
        }
        return valid ? AgentInfo(id: id, labels: labels, commands: commands) : nil
    }

    private static func decodeLabels(_ node: YAMLNode, diagnostics: inout [Diagnostic]) -> LabelSet? {
        switch node.kind {
        case .scalar(let text, _, _):
            do {
                return try LabelSet.parse(text)
            } catch {
                diagnostics.append(.error("bad-label", at: node.position, error.description))
                return nil
            }
        case .mapping(let pairs):
            var values: [String: String] = [:]
            var problems = 0
            for pair in pairs {
                guard let key = pair.key.scalarText, let value = pair.value.scalarText else {
                    diagnostics.append(
                        .error("wrong-type", at: pair.value.position, "a label is a key and a string value"))
                    problems += 1
                    continue
                }
                if let problem = LabelRules.keyProblem(key) {
                    diagnostics.append(
                        .error("bad-label", at: pair.key.position, "invalid label key '\(key)': \(problem)"))
                    problems += 1
                } else if let problem = LabelRules.valueProblem(value) {
                    diagnostics.append(
                        .error(
                            "bad-label", at: pair.value.position,
                            "invalid label value '\(value)' for key '\(key)': \(problem)"))
                    problems += 1
                }
                values[key] = value
            }
            return problems == 0 ? LabelSet(values) : nil
        case .sequence:
            diagnostics.append(
                .error(
                    "wrong-type", at: node.position,
                    "'labels' must be a mapping or a string such as \"env=prd,role=web\""))
            return nil
        }
    }

    private static func decodeCommands(_ node: YAMLNode, diagnostics: inout [Diagnostic]) -> [String]? {
        switch node.kind {
        case .scalar(let text, _, _):
            return text.split(separator: ",").map { String($0).trimmingSpaces }.filter { !$0.isEmpty }
        case .sequence(let items):
            var globs: [String] = []
            for item in items {
                guard let text = item.scalarText else {
                    diagnostics.append(.error("wrong-type", at: item.position, "a command glob must be a string"))
                    return nil
                }
                globs.append(text)
            }
            return globs
        case .mapping:
            diagnostics.append(
                .error(
                    "wrong-type", at: node.position,
                    "'commands' must be a list of globs or a string such as \"restart,deploy-*\""))
            return nil
        }
    }
}
