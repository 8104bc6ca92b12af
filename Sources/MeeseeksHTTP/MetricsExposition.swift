/// The Prometheus exposition of the box and its agents: swift-prometheus's text, completed with
/// `# HELP` lines from one catalog of every metric, and converted to OpenMetrics on request.
public enum MetricsExposition {
    /// Every metric the box and agents export, with what it means.
    public static let catalog: [String: String] = [
        "meeseeks_build_info": "Build information; always 1, the version in a label.",
        "meeseeks_queue_depth": "Jobs waiting to start.",
        "meeseeks_queue_oldest_age_seconds": "Age of the oldest job waiting to start.",
        "meeseeks_agents_connected": "Agents connected now, the embedded one included.",
        "meeseeks_jobs_queued_total": "Jobs stored and queued.",
        "meeseeks_jobs_finished_total": "Jobs ended, by command and final status.",
        "meeseeks_job_duration_seconds": "How long jobs ran, by command.",
        "meeseeks_dialogs_total": "Dialogs opened, completed (a job ran to its end) and abandoned (cancelled, declined, expired).",
        "meeseeks_commands_total": "Requests decided by the policy, by command, decision and reason.",
        "meeseeks_two_factor_attempts_total": "Second-factor codes checked by agents, by outcome.",
        "meeseeks_config_reloads_total": "Configuration reloads, by outcome.",
        "meeseeks_config_info": "The live configuration; 1 for its fingerprint, 0 for replaced ones.",
        "meeseeks_config_commands": "Commands in the live configuration.",
        "meeseeks_config_last_reload_timestamp_seconds": "When the live configuration was loaded.",
        "meeseeks_slack_requests_total": "Requests from Slack, by route and outcome.",
        "meeseeks_slack_request_duration_seconds": "Time to answer Slack's requests, by route.",
        "meeseeks_slack_api_calls_total": "Calls to Slack's Web API, by method and HTTP status.",
        "meeseeks_slack_api_duration_seconds": "Duration of calls to Slack's Web API, by method.",
        "meeseeks_slack_retries_total": "Slack deliveries retried, by method.",
        "meeseeks_slack_outbox_depth": "Slack messages waiting to be delivered.",
        "meeseeks_slack_socket_reconnects_total": "Socket Mode connections opened again.",
        "meeseeks_agent_refusals_total": "Agents refused by the box, by reason.",
        "meeseeks_agent_malformed_messages_total": "Messages from agents that could not be used.",
        "meeseeks_agent_jobs_running": "Jobs this agent runs now.",
        "meeseeks_agent_slots": "Jobs this agent may run at once.",
        "meeseeks_agent_connected": "1 while this agent is connected to its box.",
        "meeseeks_agent_reconnects_total": "Times this agent lost its box and dialled again.",
        "meeseeks_agent_jobs_total": "Jobs this agent ran, by final status.",
    ]

    /// The text format (0.0.4) with a `# HELP` before each `# TYPE`.
    public static func prometheus(_ text: String) -> String {
        var lines: [Substring] = []
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            if line.hasPrefix("# TYPE ") {
                let name = line.split(separator: " ")[2]
                lines.append("# HELP \(name) \(help(for: String(name)))")
            }
            lines.append(line)
        }
        return lines.joined(separator: "\n")
    }

    /// OpenMetrics 1.0: counters named without `_total` in their family, and `# EOF`.
    public static func openMetrics(_ text: String) -> String {
        var lines: [String] = []
        for line in text.split(separator: "\n") {
            if line.hasPrefix("# TYPE ") {
                let parts = line.split(separator: " ")
                var name = String(parts[2])
                if parts[3] == "counter", name.hasSuffix("_total") { name = String(name.dropLast(6)) }
                lines.append("# HELP \(name) \(help(for: String(parts[2])))")
                lines.append("# TYPE \(name) \(parts[3])")
            } else if !line.hasPrefix("#") {
                lines.append(String(line))
            }
        }
        return lines.joined(separator: "\n") + "\n# EOF\n"
    }

    static func help(for name: String) -> String {
        catalog[name] ?? "Meeseeks Box metric \(name)."
    }

    public static let prometheusContentType = "text/plain; version=0.0.4; charset=utf-8"
    public static let openMetricsContentType = "application/openmetrics-text; version=1.0.0; charset=utf-8"
}
