import Foundation
import Logging
import MeeseeksConfig
import MeeseeksCore
import ServiceLifecycle
import UnixSignals

/// A long-running loop as a service: cancelled when the group shuts down.
struct LoopService: Service {
    let name: String
    let body: @Sendable () async -> Void

    func run() async throws {
        try await cancelWhenGracefulShutdown { await body() }
    }
}

/// Reloads the configuration on SIGHUP.
struct SignalReloader: Service {
    let reloader: ConfigReloader
    let logger: Logger

    func run() async throws {
        for await _ in await UnixSignalsSequence(trapping: .sighup).cancelOnGracefulShutdown() {
            logger.info("SIGHUP: reloading the configuration")
            // Not awaited inline: a storm of signals must not queue behind one slow load.
            Task { await reloader.reload(reason: "SIGHUP") }
        }
    }
}

/// Purges history past its retention, once an hour.
struct Maintenance: Service {
    let store: any JobHistoryStore
    let holder: ConfigHolder
    let logger: Logger

    func run() async {
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                let retention = Double(holder.snapshot.configuration.settings.historyRetention)
                do {
                    let purged = try store.purge(before: Date().timeIntervalSince1970 - retention)
                    if purged > 0 { logger.info("purged old history", metadata: ["jobs": "\(purged)"]) }
                } catch {
                    logger.error("cannot purge old history; trying again in an hour", metadata: ["error": "\(error)"])
                }
                try? await Task.sleep(for: .seconds(3600))  // cancelled at shutdown: the loop ends
            }
        }
    }
}

/// The orchestrator's periodic work: idle dialogs and unanswered approvals expire every 5 s, lost jobs are reaped every
/// second, and handed-back jobs whose backoff passed are dispatched within a quarter second.
enum Housekeeping {
    static func loops(for box: Orchestrator) -> [any Service] {
        [
            LoopService(name: "dialog-expiry") {
                await box.resumeApprovals()
                while !Task.isCancelled {
                    try? await Task.sleep(for: .seconds(5))  // cancelled at shutdown: the loop ends
                    await box.expireIdleDialogs()
                    await box.expireApprovals()
                }
            },
            LoopService(name: "progress") {
                while !Task.isCancelled {
                    try? await Task.sleep(for: .seconds(ProgressTracker.interval))  // cancelled at shutdown: the loop ends
                    await box.reportProgress()
                }
            },
            LoopService(name: "reaper") {
                var tick = 0
                while !Task.isCancelled {
                    if tick % 4 == 0 {
                        await box.reapLostJobs()
                        await box.applyRevocations()
                    }
                    await box.dispatchDeferred()
                    tick &+= 1
                    try? await Task.sleep(for: .milliseconds(250))  // cancelled at shutdown: the loop ends
                }
            },
        ]
    }
}
