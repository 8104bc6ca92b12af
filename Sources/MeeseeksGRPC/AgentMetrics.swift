import MeeseeksCore
import Metrics

enum AgentMetrics {
    static func refused(_ reason: String) {
        MetricCache.counter("meeseeks_agent_refusals_total", [("reason", reason.replacing(" ", with: "_"))]).increment()
    }

    static func malformed() {
        MetricCache.counter("meeseeks_agent_malformed_messages_total").increment()
    }

    /// The heartbeat interval agents were last asked for (it grows with the fleet).
    static func heartbeatInterval(_ seconds: Int) {
        MetricCache.gauge("meeseeks_agent_heartbeat_interval_seconds").record(seconds)
    }
}
