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
        switch ConfigFile.kind(of: dir) {
        case .directory: break
        case .missing:
            return session.finish(extra: [.error("missing-config", at: .file(dir), "configuration directory \(dir) does not exist")])
        case .file, .other:
            return session.finish(extra: [.error("missing-config", at: .file(dir), "\(dir) is not a directory")])
        }
        for name in ["meeseeks.yaml", "meeseeks.yml"] where ConfigFile.kind(of: resolve(name, in: dir)) != .missing {
            session.add(path: resolve(name, in: dir), as: .settings)
        }
        let paths = session.settings.paths
        session.addDirectory(resolve(paths.commands, in: dir), as: .command, required: true)
        session.addDirectory(resolve(paths.policies, in: dir), as: .policy, required: false)
        return session.finish(checkReachability: true)
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
