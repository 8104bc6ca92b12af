import Metrics

enum AgentMetrics {
    static func refused(_ reason: String) {
        Counter(label: "meeseeks_agent_refusals_total", dimensions: [("reason", reason.replacing(" ", with: "_"))]).increment()
    }

    static func malformed() {
        Counter(label: "meeseeks_agent_malformed_messages_total").increment()
    }
}
