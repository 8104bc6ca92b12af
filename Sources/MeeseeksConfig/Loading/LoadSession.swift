import Dispatch

/// Accumulates files into one configuration while loading.
struct LoadSession {
    enum FileRole {
        case command, policy, settings
    }

    var commands: [CommandSpec] = []
    var policy = PolicySet()
    var settings = BoxSettings()
    var diagnostics: [Diagnostic] = []
    var files: [String] = []
    private var hasher = FNV1a()

    mutating func addDirectory(_ directory: String, as role: FileRole?, required: Bool) {
        switch ConfigFile.kind(of: directory) {
        case .missing:
            if required {
                diagnostics.append(
                    .warning("empty-config", at: .file(directory), "\(directory) does not exist: no commands are declared"))
            }
            return
        case .directory: break
        case .file, .other:
            diagnostics.append(.error("unreadable", at: .file(directory), "\(directory) is not a directory"))
            return
        }
        switch ConfigFile.yamlFiles(in: directory) {
        case .failure(let diagnostic):
            diagnostics.append(diagnostic)
        case .success(let paths):
            if paths.isEmpty, role == .command || role == nil {
                diagnostics.append(
                    .warning("empty-config", at: .file(directory), "\(directory) holds no .yaml files: no commands are declared"))
            }
            add(paths: paths, as: role)
        }
    }

    mutating func add(path: String, as role: FileRole?) {
        absorb(Self.process(path, as: role))
    }

    /// Adds files read and decoded in parallel (command files are independent of each other), then
    /// merges them in order, so the result and its diagnostics do not depend on timing.
    mutating func add(paths: [String], as role: FileRole?) {
        var outcomes = [FileOutcome?](repeating: nil, count: paths.count)
        outcomes.withUnsafeMutableBufferPointer { slots in
            nonisolated(unsafe) let slots = slots
            DispatchQueue.concurrentPerform(iterations: paths.count) { i in
                // Policies and settings merge into shared state: they are decoded in order below.
                slots[i] = Self.process(paths[i], as: role, decodeCommandsOnly: true)
            }
        }
        for outcome in outcomes { absorb(outcome!) }
    }

    /// What one file contributes.
    struct FileOutcome {
        var path: String
        var text: String?
        var diagnostics: [Diagnostic] = []
        var command: CommandSpec?
        /// A document still to decode in order (policies, settings).
        var pending: (YAMLNode, FileRole)?
    }

    static func process(_ path: String, as role: FileRole?, decodeCommandsOnly: Bool = false) -> FileOutcome {
        var outcome = FileOutcome(path: path)
        switch ConfigFile.read(path) {
        case .failure(let diagnostic):
            outcome.diagnostics.append(diagnostic)
            return outcome
        case .success(let read):
            outcome.text = read
        }
        let parsed = YAMLParser.parse(outcome.text!, file: path)
        outcome.diagnostics += parsed.diagnostics
        guard let document = parsed.documents.first else {
            if parsed.diagnostics.isEmpty {
                outcome.diagnostics.append(.warning("empty-file", at: .file(path), "file is empty; it declares nothing"))
            }
            return outcome
        }
        if parsed.documents.count > 1 {
            outcome.diagnostics.append(
                .error(
                    "multiple-documents", at: parsed.documents[1].position,
                    "a configuration file holds one YAML document; split this one into several files"))
        }
        if case .null = document.resolved {
            outcome.diagnostics.append(.warning("empty-file", at: .file(path), "file is empty; it declares nothing"))
            return outcome
        }
        let resolvedRole = role ?? guessRole(path: path, document: document)
        if resolvedRole == .command {
            outcome.command = CommandDecoder.decode(document, diagnostics: &outcome.diagnostics)
        } else {
            outcome.pending = (document, resolvedRole)
        }
        return outcome
    }

    /// Findings kept per file: a hostile or garbled file must not flood the terminal or the log.
    static let diagnosticsPerFile = 200

    mutating func absorb(_ outcome: FileOutcome) {
        files.append(outcome.path)
        if let text = outcome.text {
            hasher.combine(outcome.path)
            hasher.combine(text)
        }
        if outcome.diagnostics.count > Self.diagnosticsPerFile {
            let shown = outcome.diagnostics.sortedForDisplay.prefix(Self.diagnosticsPerFile)
            diagnostics += shown
            diagnostics.append(
                .error(
                    "too-many-problems", at: .file(outcome.path),
                    "\(outcome.diagnostics.count - shown.count) more problems in this file are not shown; fix the ones above first"))
        } else {
            diagnostics += outcome.diagnostics
        }
        if let command = outcome.command { commands.append(command) }
        switch outcome.pending {
        case (let document, .policy)?: PolicyDecoder.decode(document, into: &policy, diagnostics: &diagnostics)
        case (let document, .settings)?: settings = SettingsDecoder.decode(document, diagnostics: &diagnostics)
        default: break
        }
    }

    /// A file named on the command line: policies have `roles` or `grants`, settings are
    /// `meeseeks.yaml`, the rest are commands.
    private static func guessRole(path: String, document: YAMLNode) -> FileRole {
        let base = path.split(separator: "/").last.map(String.init) ?? path
        if base == "meeseeks.yaml" || base == "meeseeks.yml" { return .settings }
        if case .mapping(let pairs) = document.kind,
            pairs.contains(where: { $0.key.scalarText == "roles" || $0.key.scalarText == "grants" })
        {
            return .policy
        }
        return .command
    }

    mutating func merge(_ other: Configuration, diagnostics more: [Diagnostic]) {
        commands += other.commands
        for (name, role) in other.policy.roles where policy.roles[name] == nil { policy.roles[name] = role }
        policy.grants += other.policy.grants
        settings = other.settings
        files += other.files
        hasher.combine(other.fingerprint)
        diagnostics += more
    }

    /// `agentOwned`: the commands an agent defines itself (`mrmeeseeks lint`), not the box's.
    mutating func finish(checkReachability: Bool = false, agentOwned: Bool = false, extra: [Diagnostic] = []) -> ConfigLoader.Result {
        diagnostics += extra
        diagnostics += ApprovalRules.check(commands: commands, policy: policy, agentOwned: agentOwned)
        diagnostics += ConfigurationRules.check(commands: commands, policy: policy, reachability: checkReachability)
        diagnostics += AliasRules.check(commands: commands, settings: settings)
        let configuration = Configuration(
            commands: commands, policy: policy, settings: settings, fingerprint: hasher.hex, files: files)
        let unique = Array(Set(diagnostics)).sortedForDisplay
        return ConfigLoader.Result(
            configuration: unique.hasErrors ? nil : configuration, partial: configuration, diagnostics: unique)
    }
}

/// A 64-bit FNV-1a hash: enough to tell one configuration from another, no crypto needed.
struct FNV1a {
    private(set) var value: UInt64 = 0xcbf2_9ce4_8422_2325

    mutating func combine(_ text: String) {
        for byte in text.utf8 {
            value ^= UInt64(byte)
            value &*= 0x100_0000_01b3
        }
        value ^= 0xff
        value &*= 0x100_0000_01b3
    }

    var hex: String {
        let digits = String(value, radix: 16)
        return String(repeating: "0", count: 16 - digits.count) + digits
    }
}
