import Logging
import MeeseeksCore
import Metrics

/// Records decisions in the audit trail and counts them in the metrics, in one place, so the
/// dashboard and the trail never disagree. Metrics are derived from the closed set of actions.
struct AuditTrail: Sendable {
    let store: any AuditStore
    let metrics: BoxMetrics
    let logger: Logger
    let clock: @Sendable () -> Double
    /// Whether a command name comes from the configuration (metric labels take no other).
    let knows: @Sendable (String) -> Bool

    func record(_ entry: AuditRecord) {
        do {
            try store.append(entry, at: clock())
        } catch {
            // The action itself has happened; losing its trail is logged loudly and counted.
            logger.error("cannot write the audit trail", metadata: ["action": "\(entry.action.rawValue)", "error": "\(error)"])
            MetricCache.counter("meeseeks_audit_write_failures_total").increment()
        }
        metrics.audited(entry, knownCommand: entry.command.map(knows) ?? false)
    }
}
