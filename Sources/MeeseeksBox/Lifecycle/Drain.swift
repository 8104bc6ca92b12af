import Foundation
import Logging
import MeeseeksCore
import MeeseeksSlack
import ServiceLifecycle
import UnixSignals

/// What SIGTERM means for the box: after the listeners close (they stop first), running jobs of
/// the embedded agent get `grace` seconds to finish (then they are cancelled and recorded), and
/// the Slack outbox gets a last chance to deliver. A second signal exits at once.
struct Drain: Service {
    let box: Orchestrator
    let store: any OutboxStore
    let hasOutbox: Bool
    let grace: Double
    let logger: Logger

    func run() async throws {
        do {
            try await gracefulShutdown()
        } catch {
            return  // cancelled, not drained: nothing to wait for
        }
        logger.notice("draining: letting running jobs finish", metadata: ["grace_seconds": "\(grace)"])
        await withTaskGroup(of: Void.self) { group in
            group.addTask {
                var signals = await UnixSignalsSequence(trapping: .sigterm, .sigint).makeAsyncIterator()
                guard await signals.next() != nil, !Task.isCancelled else { return }
                logger.warning("second signal: exiting now")
                exit(1)
            }
            group.addTask { await drain() }
            await group.next()
            group.cancelAll()
        }
    }

    private func drain() async {
        await box.stopAccepting()
        let deadline = Date().addingTimeInterval(grace)
        while await box.localRunningCount() > 0, Date() < deadline {
            try? await Task.sleep(for: .milliseconds(100))
        }
        let left = await box.localRunningCount()
        if left > 0 {
            logger.warning("grace period over: cancelling running jobs", metadata: ["jobs": "\(left)"])
            await box.cancelLocalJobs()
            // Bounded too: with the database refusing writes (a full disk) the ends of cancelled
            // jobs cannot be recorded; those left running are marked lost at the next start.
            let cancelDeadline = Date().addingTimeInterval(10)
            while await box.localRunningCount() > 0, Date() < cancelDeadline {
                try? await Task.sleep(for: .milliseconds(100))  // cancelled: the loop ends at the deadline anyway
            }
            let stuck = await box.localRunningCount()
            if stuck > 0 {
                logger.error(
                    "cancelled jobs whose end could not be recorded; they are marked lost at the next start", metadata: ["jobs": "\(stuck)"]
                )
            }
        }
        guard hasOutbox else { return }
        let flushDeadline = Date().addingTimeInterval(max(10, grace / 2))
        while depth() > 0, Date() < flushDeadline {
            try? await Task.sleep(for: .milliseconds(100))  // cancelled: the loop ends at the deadline anyway
        }
        let undelivered = depth()
        if undelivered > 0 {
            logger.warning(
                "Slack replies still undelivered; they are kept and sent after the restart", metadata: ["messages": "\(undelivered)"])
        }
    }

    /// Messages still to deliver; a store that cannot say counts as none left to wait for.
    private func depth() -> Int {
        do {
            return try store.outboxDepth()
        } catch {
            logger.error("cannot read the Slack outbox", metadata: ["error": "\(error)"])
            return 0
        }
    }
}
