/// Loads a configuration directory (`meeseeks.yaml`, `commands.d/`, `policies.d/`) or a list of
/// files, and runs every lint rule over the result.
///
/// ```swift
/// let result = ConfigLoader.load(directory: "/etc/meeseeks")
/// result.diagnostics.forEach { print($0) }        // path:line:col: error: ...
/// if let config = result.configuration { ... }    // nil when there are errors
/// ```
public enum ConfigLoader {
    public struct Result: Sendable {
        /// Present only when there are no errors (warnings allowed).
        public var configuration: Configuration?
        /// What was read, even with errors: for `policy explain` and tests.
        public var partial: Configuration
        public var diagnostics: [Diagnostic]
    }

    /// Loads `directory` as `meeseeks serve --config` reads it.
    public static func load(directory: String) -> Result {
        var session = LoadSession()
        let dir = directory.hasSuffix("/") ? String(directory.dropLast()) : directory
        if let missing = missingDirectory(dir) { return session.finish(extra: [missing]) }
        for path in settingsFiles(in: dir) { session.add(path: path, as: .settings) }
        let read = folders(in: dir, paths: session.settings.paths)
        session.addDirectory(read.commands, as: .command, required: true)
        session.addDirectory(read.policies, as: .policy, required: false)
        return session.finish(checkReachability: true)
    }

    /// Loads an agent's own commands (`mrmeeseeks --config`): `directory/commands.d`, with the
    /// box's schema and lint. No policies (the box grants), so no reachability warnings.
    public static func loadCommands(directory: String) -> Result {
        var session = LoadSession()
        let dir = directory.hasSuffix("/") ? String(directory.dropLast()) : directory
        if let missing = missingDirectory(dir) { return session.finish(extra: [missing]) }
        session.addDirectory(resolve("commands.d", in: dir), as: .command, required: true)
        return session.finish(checkReachability: false, agentOwned: true)
    }

    private static func missingDirectory(_ dir: String) -> Diagnostic? {
        switch ConfigFile.kind(of: dir) {
        case .directory: nil
        case .missing: .error("missing-config", at: .file(dir), "configuration directory \(dir) does not exist")
        case .file, .other: .error("missing-config", at: .file(dir), "\(dir) is not a directory")
        }
    }

    /// `meeseeks.yaml` (or `.yml`) in `directory`, where present.
    public static func settingsFiles(in directory: String) -> [String] {
        ["meeseeks.yaml", "meeseeks.yml"].map { resolve($0, in: directory) }.filter { ConfigFile.kind(of: $0) != .missing }
    }

    /// The folders commands and policies are read from, as the settings name them.
    public static func folders(in directory: String, paths: BoxSettings.Paths) -> (commands: String, policies: String) {
        (resolve(paths.commands, in: directory), resolve(paths.policies, in: directory))
    }

    /// Loads individual files (or directories of them), telling commands from policies by content.
    public static func load(paths: [String]) -> Result {
        var session = LoadSession()
        for path in paths {
            switch ConfigFile.kind(of: path) {
            case .directory:
                let hasLayout = ["commands.d", "policies.d", "meeseeks.yaml"].contains {
                    ConfigFile.kind(of: "\(path)/\($0)") != .missing
                }
                if hasLayout {
                    let nested = load(directory: path)
                    session.merge(nested.partial, diagnostics: nested.diagnostics)
                } else {
                    session.addDirectory(path, as: nil, required: true)
                }
            default:
                session.add(path: path, as: nil)
            }
        }
        return session.finish(checkReachability: !session.policy.grants.isEmpty)
    }

    /// `path` relative to the configuration directory (absolute paths stay as they are).
    public static func resolve(_ path: String, in directory: String) -> String {
        path.hasPrefix("/") || directory == "." ? path : "\(directory)/\(path)"
    }
}
