import Logging
import MeeseeksConfig
import MeeseeksCore

extension Box {
    /// Records a decision in the audit trail and counts it in the metrics: one place for both, so
    /// the dashboard and the trail never disagree.
    public func record(_ entry: AuditRecord) {
        do {
            try store.append(entry, at: clock())
        } catch {
            logger.error("cannot write the audit trail", metadata: ["action": "\(entry.action)", "error": "\(error)"])
        }
        let known = entry.command.map { config.snapshot.configuration.command(named: $0) != nil } ?? false
        metrics.audited(entry, knownCommand: known)
    }
}
