import MeeseeksCore
import Metrics

/// The box's own metrics through swift-metrics; the executable picks the backend (Prometheus).
/// Labels are bounded: commands from the configuration (anything else is `unknown`), statuses,
/// reasons and outcomes from fixed sets; never user or job ids.
public struct BoxMetrics: Sendable {
    let queueDepth = Gauge(label: "meeseeks_queue_depth")
    let oldestQueued = Gauge(label: "meeseeks_queue_oldest_age_seconds")
    let agentsConnected = Gauge(label: "meeseeks_agents_connected")
    let queued = Counter(label: "meeseeks_jobs_queued_total")

    public init() {
        MetricCache.gauge("meeseeks_build_info", [("version", BuildVersion.current)]).record(1)
    }

    /// How long the scheduler took to place a page of queued jobs on the fleet (its label index,
    /// free slots and grants): the part of routing that grows with the fleet.
    public static let planDuration = "meeseeks_scheduler_plan_seconds"
    /// Fine buckets for it: a plan takes microseconds, the default buckets start at milliseconds.
    public static let planDurationBuckets: [Duration] = [
        .microseconds(10), .microseconds(25), .microseconds(50), .microseconds(100), .microseconds(250), .microseconds(500),
        .milliseconds(1), .milliseconds(2.5), .milliseconds(5), .milliseconds(10), .milliseconds(25), .milliseconds(100),
    ]
    let planTimer = Timer(label: BoxMetrics.planDuration)

    func planned(in duration: Duration) {
        let (seconds, attoseconds) = duration.components
        planTimer.recordNanoseconds(min(seconds, 1_000_000) * 1_000_000_000 + attoseconds / 1_000_000_000)
    }

    func jobQueued() {
        queued.increment()
    }

    func queue(depth: Int, oldest: Double) {
        queueDepth.record(depth)
        oldestQueued.record(oldest)
    }

    func agents(connected: Int) {
        agentsConnected.record(connected)
    }

    func jobFinished(command: String, status: JobStatus, duration: Double?) {
        MetricCache.counter("meeseeks_jobs_finished_total", [("command", command), ("status", status.rawValue)]).increment()
        if let duration {
            MetricCache.timer("meeseeks_job_duration_seconds", [("command", command)])
                .recordNanoseconds(Int64(duration * 1_000_000_000))
        }
    }

    /// An agent's report that changes nothing: about a job the box does not know, or one that
    /// another agent or attempt holds.
    func agentReportIgnored(_ reason: String) {
        MetricCache.counter("meeseeks_agent_reports_ignored_total", [("reason", reason)]).increment()
    }

    func dialogCompleted() {
        MetricCache.counter("meeseeks_dialogs_total", [("outcome", "completed")]).increment()
    }

    /// Counters derived from audit records.
    func audited(_ record: AuditRecord, knownCommand: Bool) {
        let command = knownCommand ? (record.command ?? "none") : "unknown"
        switch record.action {
        case .dialogOpened:
            MetricCache.counter("meeseeks_dialogs_total", [("outcome", "opened")]).increment()
        case .dialogExpired, .dialogCancelled, .dialogDeclined:
            MetricCache.counter("meeseeks_dialogs_total", [("outcome", "abandoned")]).increment()
        case .policyAllowed:
            MetricCache.counter("meeseeks_commands_total", [("command", command), ("decision", "allowed"), ("reason", "granted")])
                .increment()
        case .policyDenied, .commandRequested:
            // Label values from closed sets only: a reason outside the known codes (a message, a
            // typed value) would make a new series per request.
            let reason = record.reason.flatMap { Refusal.reasonCodes.contains($0) ? $0 : nil } ?? "other"
            MetricCache.counter("meeseeks_commands_total", [("command", command), ("decision", "refused"), ("reason", reason)])
                .increment()
        case .twoFactorPassed:
            MetricCache.counter("meeseeks_two_factor_attempts_total", [("outcome", "passed")]).increment()
        case .twoFactorFailed:
            MetricCache.counter("meeseeks_two_factor_attempts_total", [("outcome", "failed")]).increment()
        case .twoFactorLocked:
            MetricCache.counter("meeseeks_two_factor_attempts_total", [("outcome", "locked")]).increment()
        case .agentRefused:
            MetricCache.counter("meeseeks_agents_refused_total").increment()
        case .approvalGranted:
            MetricCache.counter("meeseeks_approvals_total", [("command", command), ("decision", "approved")]).increment()
        case .approvalDenied:
            MetricCache.counter("meeseeks_approvals_total", [("command", command), ("decision", "denied")]).increment()
        case .approvalExpired:
            MetricCache.counter("meeseeks_approvals_total", [("command", command), ("decision", "expired")]).increment()
        case .approvalRefused:
            MetricCache.counter("meeseeks_approvals_total", [("command", command), ("decision", "refused")]).increment()
        default:
            break
        }
    }
}
