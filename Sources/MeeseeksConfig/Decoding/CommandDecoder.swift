import MeeseeksLabels
import Synchronization

/// Decodes one command file's document into a `CommandSpec`, reporting every problem.
enum CommandDecoder {
    static let keys = [
        "name", "summary", "description", "run", "script", "args", "confirm", "two_factor", "timeout", "target",
        "concurrency", "channels", "destructive", "aliases", "approval",
    ]

    static func decode(_ node: YAMLNode, diagnostics: inout [Diagnostic]) -> CommandSpec? {
        guard var reader = MappingReader(node, context: "a command", diagnostics: &diagnostics) else { return nil }
        defer { diagnostics += reader.finish() }

        let name = reader.string("name", required: true)
        let namePosition = reader.node("name")?.position ?? node.position
        let summary = reader.string("summary", required: true)
        let description = reader.string("description")
        let arguments = decodeArguments(&reader)
        let action = decodeAction(&reader)
        let confirm = decodeConfirm(&reader)
        let twoFactor = reader.bool("two_factor") ?? false
        let timeout = reader.duration("timeout") ?? CommandSpec.defaultTimeout
        let (selector, mode) = decodeTarget(&reader)
        let concurrency = reader.int("concurrency")
        if let concurrency, concurrency < 1, let node = reader.node("concurrency") {
            reader.diagnostics.append(
                .error("bad-value", at: node.position, "'concurrency' must be at least 1, found \(concurrency)"))
        }
        let channels = reader.strings("channels")?.map(\.0)
        let destructive = reader.bool("destructive") ?? false
        let aliases = reader.strings("aliases", single: true)?.map(\.0) ?? []
        let approval = decodeApproval(&reader)

        // Without a summary the command is still checked, so one run reports everything.
        guard let name, let action else { return nil }
        var spec = CommandSpec(
            name: name, summary: summary ?? "", description: description, action: action, arguments: arguments,
            confirm: confirm, twoFactor: twoFactor, timeout: timeout, selector: selector ?? .everything,
            mode: mode, concurrency: concurrency, channels: channels, destructive: destructive,
            position: namePosition)
        spec.aliases = aliases
        spec.approval = approval
        CommandRules.check(spec, &reader)
        return spec
    }

    private static func decodeAction(_ reader: inout MappingReader) -> CommandSpec.Action? {
        let run = reader.node("run")
        let script = reader.node("script")
        switch (run, script) {
        case (.some, .some):
            reader.diagnostics.append(
                .error("run-and-script", at: reader.keyPosition("script"), "a command has either 'run' or 'script', not both"))
            return nil
        case (.none, .none):
            reader.missing("run", "give an argv list in 'run', or an inline 'script'")
            return nil
        case (.some, .none):
            guard let items = reader.strings("run", single: false) else { return nil }
            if items.isEmpty {
                reader.diagnostics.append(.error("bad-value", at: run!.position, "'run' must name a program"))
                return nil
            }
            return .run(items.map { Template($0.0) })
        case (.none, .some(let node)):
            guard case .string(let text) = node.resolved else {
                reader.typeError("script", node, expected: "a string (use '|' for a block)")
                return nil
            }
            if !text.hasPrefix("#!") {
                reader.diagnostics.append(
                    .error(
                        "script-shebang", at: node.position,
                        "an inline 'script' must start with a shebang line such as '#!/bin/bash'; it is run directly, never through a shell"
                    ))
            }
            return .script(text)
        }
    }

    private static func decodeConfirm(_ reader: inout MappingReader) -> CommandSpec.Confirm {
        guard let node = reader.node("confirm") else { return .never }
        switch node.resolved {
        case .bool(let b): return b ? .always : .never
        case .string(let s): return .template(Template(s))
        default:
            reader.typeError("confirm", node, expected: "true, false or a message")
            return .never
        }
    }

    /// `approval: {roles: [sre-lead], count: 1, timeout: 30m, channel: C…}`.
    private static func decodeApproval(_ reader: inout MappingReader) -> ApprovalSpec? {
        guard let node = reader.node("approval") else { return nil }
        guard var section = MappingReader(node, context: "'approval'", diagnostics: &reader.diagnostics) else { return nil }
        defer { reader.diagnostics += section.finish() }
        let roles = section.strings("roles", single: true)?.map(\.0) ?? []
        if roles.isEmpty {
            section.missing("roles", "name the roles whose members may approve, such as roles: [sre-lead]")
        }
        let count = section.int("count") ?? 1
        if !(1...ApprovalSpec.maximumCount).contains(count), let countNode = section.node("count") {
            section.diagnostics.append(
                .error("bad-value", at: countNode.position, "'count' must be between 1 and \(ApprovalSpec.maximumCount), found \(count)"))
        }
        let timeout = section.duration("timeout") ?? ApprovalSpec.defaultTimeout
        if timeout > ApprovalSpec.maximumTimeout, let timeoutNode = section.node("timeout") {
            section.diagnostics.append(
                .error("bad-value", at: timeoutNode.position, "an approval may wait at most 7d, found \(DurationText.format(timeout))"))
        }
        let channel = section.string("channel")
        guard !roles.isEmpty, (1...ApprovalSpec.maximumCount).contains(count), timeout <= ApprovalSpec.maximumTimeout else { return nil }
        return ApprovalSpec(roles: roles, count: count, timeout: timeout, channel: channel, position: node.position)
    }

    private static func decodeTarget(_ reader: inout MappingReader) -> (LabelSelector?, CommandSpec.TargetMode) {
        guard let node = reader.node("target") else { return (nil, .one) }
        guard var target = MappingReader(node, context: "'target'", diagnostics: &reader.diagnostics) else {
            return (nil, .one)
        }
        defer { reader.diagnostics += target.finish() }
        var selector: LabelSelector?
        if let selectorNode = target.node("selector") {
            selector = SelectorDecoder.decode(selectorNode, key: "selector", diagnostics: &target.diagnostics)
        }
        var mode = CommandSpec.TargetMode.one
        if let modeNode = target.node("mode") {
            if let text = modeNode.scalarText, let parsed = CommandSpec.TargetMode(rawValue: text) {
                mode = parsed
            } else {
                target.diagnostics.append(
                    .error(
                        "bad-value", at: modeNode.position,
                        "'mode' must be 'one' or 'all', found '\(modeNode.scalarText ?? modeNode.typeDescription)'"))
            }
        }
        return (selector, mode)
    }

    private static func decodeArguments(_ reader: inout MappingReader) -> [ArgumentSpec] {
        guard let node = reader.node("args") else { return [] }
        guard case .sequence(let items) = node.kind else {
            reader.typeError("args", node, expected: "a list of arguments")
            return []
        }
        return items.compactMap { ArgumentDecoder.decode($0, diagnostics: &reader.diagnostics) }
    }
}

/// Selectors written inside YAML, reported at the offending token's column.
enum SelectorDecoder {
    /// Parsed selectors by text: configurations repeat a handful of selectors across many commands.
    private static let parsed = Mutex<[String: (selector: LabelSelector?, errors: [SelectorError])]>([:])

    static func parse(_ text: String) -> (selector: LabelSelector?, errors: [SelectorError]) {
        if let known = parsed.withLock({ $0[text] }) { return known }
        let result = LabelSelector.parse(text)
        parsed.withLock { cache in
            if cache.count > 10_000 { cache.removeAll() }
            cache[text] = result
        }
        return result
    }

    static func decode(_ node: YAMLNode, key: String, diagnostics: inout [Diagnostic]) -> LabelSelector? {
        guard case .string(let text) = node.resolved else {
            if case .null = node.resolved { return .everything }
            diagnostics.append(
                .error("wrong-type", at: node.position, "'\(key)' must be a selector string such as \"env in (stg, prd)\""))
            return nil
        }
        let parsed = parse(text)
        for error in parsed.errors {
            diagnostics.append(
                .error(
                    "selector-syntax", at: node.contentPosition.advanced(by: error.offset),
                    "invalid selector in '\(key)': \(error.message)"))
        }
        return parsed.selector
    }
}
