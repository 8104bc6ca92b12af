import Foundation
import Logging
public import MeeseeksConfig
import MeeseeksCore
import Metrics

/// Reloads the configuration directory: the whole set is read and linted off the hot path, then
/// swapped in at once, or refused with the diagnostics exactly as `meeseeks lint` prints them.
/// Requests that overlap (a storm of SIGHUPs) coalesce into one more reload after the current one.
public actor ConfigReloader {
    public struct Outcome: Sendable {
        public var applied: Bool
        public var diagnostics: [Diagnostic]
        public var fingerprint: String?
    }

    let directory: String
    let holder: ConfigHolder
    let logger: Logger
    private var running: Task<Outcome, Never>?
    private var again = false
    private var publishedFingerprint: String
    let onOutcome: @Sendable (Outcome, String) async -> Void
    /// Resolves `@handle` members (through Slack) for the configuration about to go live.
    let resolveHandles: @Sendable (Configuration) async -> HandleCheck

    /// - Parameter onOutcome: told of every reload and its reason (the box audits it).
    public init(
        directory: String, holder: ConfigHolder, logger: Logger,
        resolveHandles: @escaping @Sendable (Configuration) async -> HandleCheck = { _ in HandleCheck() },
        onOutcome: @escaping @Sendable (Outcome, String) async -> Void = { _, _ in }
    ) {
        self.resolveHandles = resolveHandles
        self.directory = directory
        self.holder = holder
        self.logger = logger
        self.onOutcome = onOutcome
        publishedFingerprint = holder.snapshot.configuration.fingerprint
        Self.publish(holder.snapshot.configuration, at: holder.snapshot.loadedAt, replacing: nil)
    }

    /// Reloads now, or (if a reload is running) once more after it; returns the outcome that
    /// covers this request.
    @discardableResult
    public func reload(reason: String) async -> Outcome {
        if let running {
            again = true
            _ = await running.value
            if let next = self.running { return await next.value }
        }
        let task = Task { await self.load(reason: reason) }
        running = task
        var outcome = await task.value
        await onOutcome(outcome, reason)
        while again {
            again = false
            let next = Task { await self.load(reason: "coalesced") }
            running = next
            outcome = await next.value
            await onOutcome(outcome, "coalesced")
        }
        running = nil
        return outcome
    }

    private func load(reason: String) async -> Outcome {
        let directory = self.directory
        let result = await Task.detached { ConfigLoader.load(directory: directory) }.value
        guard let configuration = result.configuration else {
            for diagnostic in result.diagnostics { logger.error("\(diagnostic)") }
            logger.error(
                "configuration reload refused; keeping the running configuration",
                metadata: ["reason": "\(reason)", "errors": "\(result.diagnostics.errors.count)"])
            MetricCache.counter("meeseeks_config_reloads_total", [("outcome", "failure")]).increment()
            return Outcome(applied: false, diagnostics: result.diagnostics, fingerprint: nil)
        }
        for diagnostic in result.diagnostics { logger.warning("\(diagnostic)") }
        let handles = await resolveHandles(configuration)
        guard handles.problems.isEmpty else {
            // An unknown or ambiguous @handle is an error like lint's: the set is refused whole.
            for diagnostic in handles.problems { logger.error("\(diagnostic)") }
            logger.error("configuration reload refused; keeping the running configuration", metadata: ["reason": "\(reason)"])
            MetricCache.counter("meeseeks_config_reloads_total", [("outcome", "failure")]).increment()
            return Outcome(applied: false, diagnostics: result.diagnostics + handles.problems, fingerprint: nil)
        }
        let now = Date().timeIntervalSince1970
        holder.replace(with: configuration, resolvedHandles: handles.resolved, at: now)
        Self.publish(configuration, at: now, replacing: publishedFingerprint)
        publishedFingerprint = configuration.fingerprint
        MetricCache.counter("meeseeks_config_reloads_total", [("outcome", "success")]).increment()
        logger.info(
            "configuration reloaded",
            metadata: ["reason": "\(reason)", "commands": "\(configuration.commands.count)", "fingerprint": "\(configuration.fingerprint)"])
        return Outcome(applied: true, diagnostics: result.diagnostics, fingerprint: configuration.fingerprint)
    }

    /// The live configuration's load time and hash, as metrics.
    static func publish(_ configuration: Configuration, at time: Double, replacing previous: String?) {
        if let previous, previous != configuration.fingerprint {
            MetricCache.gauge("meeseeks_config_info", [("fingerprint", previous)]).record(0)
        }
        MetricCache.gauge("meeseeks_config_last_reload_timestamp_seconds").record(time)
        MetricCache.gauge("meeseeks_config_info", [("fingerprint", configuration.fingerprint)]).record(1)
        MetricCache.gauge("meeseeks_config_commands").record(configuration.commands.count)
    }
}

/// `@handle` members resolved for a configuration, and what could not be (errors, as lint reports them).
public struct HandleCheck: Sendable {
    public var resolved: [String: String] = [:]
    public var problems: [Diagnostic] = []

    public init(resolved: [String: String] = [:], problems: [Diagnostic] = []) {
        self.resolved = resolved
        self.problems = problems
    }
}
