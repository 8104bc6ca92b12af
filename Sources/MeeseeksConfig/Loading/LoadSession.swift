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
            for path in paths { add(path: path, as: role) }
        }
    }

    mutating func add(path: String, as role: FileRole?) {
        files.append(path)
        let text: String
        switch ConfigFile.read(path) {
        case .failure(let diagnostic):
            diagnostics.append(diagnostic)
            return
        case .success(let read):
            text = read
        }
        hasher.combine(path)
        hasher.combine(text)
        let parsed = YAMLParser.parse(text, file: path)
        diagnostics += parsed.diagnostics
        guard let document = parsed.documents.first else {
            if parsed.diagnostics.isEmpty {
                diagnostics.append(.warning("empty-file", at: .file(path), "file is empty; it declares nothing"))
            }
            return
        }
        if parsed.documents.count > 1 {
            diagnostics.append(
                .error("multiple-documents", at: parsed.documents[1].position,
                    "a configuration file holds one YAML document; split this one into several files"))
        }
        if case .null = document.resolved {
            diagnostics.append(.warning("empty-file", at: .file(path), "file is empty; it declares nothing"))
            return
        }
        switch role ?? guessRole(path: path, document: document) {
        case .command:
            if let command = CommandDecoder.decode(document, diagnostics: &diagnostics) { commands.append(command) }
        case .policy:
            PolicyDecoder.decode(document, into: &policy, diagnostics: &diagnostics)
        case .settings:
            settings = SettingsDecoder.decode(document, diagnostics: &diagnostics)
        }
    }

    /// A file named on the command line: policies have `roles` or `grants`, settings are
    /// `meeseeks.yaml`, the rest are commands.
    private func guessRole(path: String, document: YAMLNode) -> FileRole {
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

    mutating func finish(checkReachability: Bool = false, extra: [Diagnostic] = []) -> ConfigLoader.Result {
        diagnostics += extra
        diagnostics += ConfigurationRules.check(commands: commands, policy: policy, reachability: checkReachability)
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
