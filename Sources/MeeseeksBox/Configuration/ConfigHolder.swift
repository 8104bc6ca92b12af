import MeeseeksConfig
public import MeeseeksCore
import Synchronization

/// The live configuration, swapped whole on reload: every request reads one consistent snapshot.
public final class ConfigHolder: Sendable {
    public struct Snapshot: Sendable {
        public var configuration: Configuration
        public var engine: PolicyEngine
        public var loadedAt: Double
    }

    private let current: Mutex<Snapshot>
    private let implicitAdmins: Set<String>

    public init(
        _ configuration: Configuration, resolvedHandles: [String: String] = [:], implicitAdmins: Set<String> = [],
        at time: Double
    ) {
        self.implicitAdmins = implicitAdmins
        current = Mutex(
            Snapshot(
                configuration: configuration,
                engine: PolicyEngine(policy: configuration.policy, resolvedHandles: resolvedHandles, implicitAdmins: implicitAdmins),
                loadedAt: time))
    }

    public var snapshot: Snapshot { current.withLock { $0 } }

    public func replace(with configuration: Configuration, resolvedHandles: [String: String] = [:], at time: Double) {
        let engine = PolicyEngine(policy: configuration.policy, resolvedHandles: resolvedHandles, implicitAdmins: implicitAdmins)
        let snapshot = Snapshot(configuration: configuration, engine: engine, loadedAt: time)
        current.withLock { $0 = snapshot }
    }
}
