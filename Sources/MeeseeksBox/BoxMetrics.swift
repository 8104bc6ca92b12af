import MeeseeksCore
import Metrics

/// The box's own metrics through swift-metrics; the executable picks the backend (Prometheus).
public struct BoxMetrics: Sendable {
    let queueDepth = Gauge(label: "meeseeks_queue_depth")
    let oldestQueued = Gauge(label: "meeseeks_queue_oldest_age_seconds")
    let agentsConnected = Gauge(label: "meeseeks_agents_connected")
    let queued = Counter(label: "meeseeks_jobs_queued_total")

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
        Counter(label: "meeseeks_jobs_finished_total", dimensions: [("command", command), ("status", status.rawValue)]).increment()
        if let duration {
            Timer(label: "meeseeks_job_duration_seconds", dimensions: [("command", command)], preferredDisplayUnit: .seconds)
                .recordNanoseconds(Int64(duration * 1_000_000_000))
        }
    }
}
