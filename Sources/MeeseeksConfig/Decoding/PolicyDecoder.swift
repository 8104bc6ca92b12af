import MeeseeksLabels

/// Decodes a file under `policies.d/`: `roles` and `grants`, either or both.
enum PolicyDecoder {
    static func decode(_ node: YAMLNode, into policy: inout PolicySet, diagnostics: inout [Diagnostic]) {
        guard var reader = MappingReader(node, context: "a policy file", diagnostics: &diagnostics) else { return }
        defer { diagnostics += reader.finish() }
        if let rolesNode = reader.node("roles") {
            decodeRoles(rolesNode, into: &policy, diagnostics: &reader.diagnostics)
        }
        if let grantsNode = reader.node("grants") {
            guard case .sequence(let items) = grantsNode.kind else {
                reader.typeError("grants", grantsNode, expected: "a list of grants")
                return
            }
            for item in items {
                if let grant = decodeGrant(item, diagnostics: &reader.diagnostics) { policy.grants.append(grant) }
            }
        }
    }

    private static func decodeRoles(_ node: YAMLNode, into policy: inout PolicySet, diagnostics: inout [Diagnostic]) {
        guard case .mapping(let pairs) = node.kind else {
            diagnostics.append(.error("wrong-type", at: node.position, "'roles' must be a mapping of role names to roles"))
            return
        }
        for pair in pairs {
            guard let name = pair.key.scalarText else { continue }
            guard var reader = MappingReader(pair.value, context: "role '\(name)'", diagnostics: &diagnostics) else {
                continue
            }
            var members: [Member] = []
            if let list = reader.strings("members") {
                members = list.map { Member($0.0) }
                for (text, item) in list {
                    if text.hasPrefix("@") {
                        reader.diagnostics.append(
                            .warning(
                                "handle-member", at: item.position,
                                "member '\(text)' is a handle: handles can be changed by their owner; prefer the Slack user ID"))
                    } else if text.isEmpty || text.contains(where: \.isWhitespace) {
                        reader.diagnostics.append(
                            .error("bad-member", at: item.position, "member '\(text)' is not a Slack user ID (such as U01ABCDEF)"))
                    }
                }
            } else {
                reader.missing("members")
            }
            _ = reader.string("description")
            diagnostics += reader.finish()
            if let existing = policy.roles[name] {
                diagnostics.append(
                    .error("duplicate-role", at: pair.key.position, "role '\(name)' is already defined at \(existing.position)"))
                continue
            }
            policy.roles[name] = Role(name: name, members: members, position: pair.key.position)
        }
    }

    private static func decodeGrant(_ node: YAMLNode, diagnostics: inout [Diagnostic]) -> Grant? {
        guard var reader = MappingReader(node, context: "a grant", diagnostics: &diagnostics) else { return nil }
        defer { diagnostics += reader.finish() }
        let roles = reader.strings("roles", single: true)
        if roles == nil { reader.missing("roles") }
        let commands = reader.strings("commands", single: true)
        if commands == nil { reader.missing("commands") }
        var on = LabelSelector.everything
        if let onNode = reader.node("on") {
            guard let selector = SelectorDecoder.decode(onNode, key: "on", diagnostics: &reader.diagnostics) else {
                return nil
            }
            on = selector
        }
        _ = reader.string("description")
        guard let roles, let commands else { return nil }
        return Grant(
            roles: roles.map(\.0), commands: commands.map(\.0), on: on, position: node.position,
            rolePositions: roles.map(\.1.position), commandPositions: commands.map(\.1.position))
    }
}
