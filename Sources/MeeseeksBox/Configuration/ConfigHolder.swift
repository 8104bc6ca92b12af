import MeeseeksConfig
public import MeeseeksCore
import Synchronization

/// The live configuration, swapped whole on reload: every request reads one consistent snapshot.
/// It is the operator's files plus the commands agents define themselves (a name the files
/// define is the files' command: the agent's is shadowed).
public final class ConfigHolder: Sendable {
    public struct Snapshot: Sendable {
        /// The files' configuration with the agents' accepted commands added.
        public var configuration: Configuration
        public var engine: PolicyEngine
        public var loadedAt: Double
        /// The files' configuration alone.
        public var base: Configuration
    }

    private struct State {
        var snapshot: Snapshot
        var resolvedHandles: [String: String]
        var agentCommands: [CommandSpec]
        var retiredCommands: [CommandSpec]
    }

    private let current: Mutex<State>
    private let implicitAdmins: Set<String>

    public init(
        _ configuration: Configuration, resolvedHandles: [String: String] = [:], implicitAdmins: Set<String> = [],
        at time: Double
    ) {
        self.implicitAdmins = implicitAdmins
        current = Mutex(
            State(
                snapshot: Self.snapshot(
                    configuration, agentCommands: [], resolvedHandles: resolvedHandles, implicitAdmins: implicitAdmins, at: time),
                resolvedHandles: resolvedHandles, agentCommands: [], retiredCommands: []))
    }

    public var snapshot: Snapshot { current.withLock { $0.snapshot } }

    public func replace(with configuration: Configuration, resolvedHandles: [String: String] = [:], at time: Double) {
        current.withLock { state in
            state.resolvedHandles = resolvedHandles
            state.snapshot = Self.snapshot(
                configuration, agentCommands: state.agentCommands, retired: state.retiredCommands, resolvedHandles: resolvedHandles,
                implicitAdmins: implicitAdmins, at: time)
        }
    }

    /// The agents' accepted commands changed (one came, went or reloaded); `retired` are those
    /// no agent offers any more, kept known but out of the menus.
    public func setAgentCommands(_ commands: [CommandSpec], retired: [CommandSpec]) {
        current.withLock { state in
            state.agentCommands = commands
            state.retiredCommands = retired
            state.snapshot = Self.snapshot(
                state.snapshot.base, agentCommands: commands, retired: retired, resolvedHandles: state.resolvedHandles,
                implicitAdmins: implicitAdmins, at: state.snapshot.loadedAt)
        }
    }

    private static func snapshot(
        _ base: Configuration, agentCommands: [CommandSpec], retired: [CommandSpec] = [], resolvedHandles: [String: String],
        implicitAdmins: Set<String>, at time: Double
    ) -> Snapshot {
        var merged = base
        let added = agentCommands.filter { base.command(named: $0.name) == nil }
        let gone = retired.filter { base.command(named: $0.name) == nil }
        if !added.isEmpty || !gone.isEmpty {
            merged = Configuration(
                commands: base.commands + added + gone, policy: base.policy, settings: base.settings, fingerprint: base.fingerprint,
                files: base.files)
            merged.unavailable = Set(gone.map(\.name))
        }
        return Snapshot(
            configuration: merged,
            engine: PolicyEngine(policy: merged.policy, resolvedHandles: resolvedHandles, implicitAdmins: implicitAdmins),
            loadedAt: time, base: base)
    }
}
