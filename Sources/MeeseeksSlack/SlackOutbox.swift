import Foundation
import Logging
public import MeeseeksCore
import Metrics

/// Delivers the outbox: oldest first within each order key (a channel), keys in parallel, retried
/// with backoff on network errors and 5xx and after `Retry-After` on 429, never dropped for a
/// transient failure. A message is marked delivered only after Slack accepted it; one Slack
/// refuses is marked failed and the messages behind it go on.
///
/// Uploads (`OutboxMessage.Operation.upload`) read a job's output from `outputs` when they are
/// delivered (see `SlackOutbox+Upload.swift`).
public actor SlackOutbox {
    let store: any OutboxStore
    let api: SlackWebAPI
    let outputs: (any SlackJobOutputs)?
    let logger: Logger
    let clock: @Sendable () -> Double
    private var inFlight: Set<String> = []
    private var wakeup: AsyncStream<Void>.Continuation?

    public init(
        store: any OutboxStore, api: SlackWebAPI, outputs: (any SlackJobOutputs)? = nil, logger: Logger,
        clock: @escaping @Sendable () -> Double = { Date().timeIntervalSince1970 }
    ) {
        self.store = store
        self.api = api
        self.outputs = outputs
        self.logger = logger
        self.clock = clock
    }

    /// Queues a message and starts delivering it.
    public nonisolated func send(_ message: OutboxMessage) {
        do {
            try store.enqueue(message)
        } catch {
            logger.error("cannot queue a Slack message", metadata: ["error": "\(error)"])
        }
        Task { await self.wake() }
    }

    func wake() {
        wakeup?.yield()
    }

    /// Delivers until cancelled; call once, from a service.
    public func run() async {
        let (wakes, continuation) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
        wakeup = continuation
        await withTaskGroup(of: Void.self) { group in
            group.addTask {
                // A periodic pass as well, for backoffs that expire while nothing wakes us.
                while !Task.isCancelled {
                    try? await Task.sleep(for: .milliseconds(250))
                    await self.wake()
                }
            }
            for await _ in wakes {
                if Task.isCancelled { break }
                for message in heads() where !inFlight.contains(message.orderKey) {
                    inFlight.insert(message.orderKey)
                    group.addTask { await self.deliverChain(startingWith: message) }
                }
            }
            group.cancelAll()
        }
    }

    private func heads() -> [OutboxMessage] {
        MetricCache.gauge("meeseeks_slack_outbox_depth").record(lookUp { try store.outboxDepth() } ?? 0)
        return lookUp { try store.outboxHeads(limit: 500) } ?? []
    }

    /// Delivers one key's messages in order until none is due.
    private func deliverChain(startingWith first: OutboxMessage) async {
        var next: OutboxMessage? = first
        while let message = next, !Task.isCancelled {
            let now = clock()
            if message.notBefore > now { break }
            await deliver(message)
            do {
                next = try store.nextPending(orderKey: message.orderKey)
            } catch {
                logger.error("cannot read the outbox", metadata: ["error": "\(error)"])
                next = nil  // the periodic pass picks the chain up again
            }
            if next?.id == message.id, (next?.notBefore ?? 0) <= clock() { break }  // not rescheduled: avoid a tight loop
        }
        inFlight.remove(first.orderKey)
    }

    private func deliver(_ message: OutboxMessage) async {
        if message.operation == .upload {
            await deliverUpload(message)
            return
        }
        guard var body = JSON.decode(message.payload) else {
            persist("markFailed") { try store.markFailed(message.id, error: "payload is not JSON") }
            return
        }
        body["channel"] = .string(message.channel)
        var method = "chat.postMessage"
        switch message.operation {
        case .post, .upload: method = "chat.postMessage"  // uploads took their own way above
        case .ephemeral: method = "chat.postEphemeral"
        case .update, .progress:
            if let key = message.messageKey, let reference = lookUp({ try store.messageReference(key) }) {
                method = "chat.update"
                body["channel"] = .string(reference.channel)
                body["ts"] = .string(reference.ts)
                body["thread_ts"] = nil
            }
        }
        let outcome = await api.call(method, body)
        if case .ok(let json) = outcome, method == "chat.postMessage", let key = message.messageKey, let ts = json["ts"]?.string {
            persist("setMessageReference") {
                try store.setMessageReference(key, channel: json["channel"]?.string ?? message.channel, ts: ts)
            }
        }
        settle(message, method: method, outcome)
    }

    /// Records what became of a delivery: delivered, failed for good (logged), or due again after
    /// a backoff or Slack's `Retry-After`.
    func settle(_ message: OutboxMessage, method: String, _ outcome: SlackWebAPI.Outcome) {
        switch outcome {
        case .ok:
            persist("markDelivered") { try store.markDelivered(message.id) }
        case .refused(let error, _):
            logger.error("Slack refused a message", metadata: ["method": "\(method)", "error": "\(error)", "outbox_id": "\(message.id)"])
            persist("markFailed") { try store.markFailed(message.id, error: error) }
        case .retry(let reason, let after):
            let attempts = message.attempts + 1
            let delay = after ?? min(15, 0.2 * pow(2, Double(min(attempts - 1, 10))))
            MetricCache.counter("meeseeks_slack_retries_total", [("method", method)]).increment()
            logger.warning(
                "Slack delivery will be retried",
                metadata: ["method": "\(method)", "reason": "\(reason)", "delay_seconds": "\(delay)", "attempt": "\(attempts)"])
            persist("reschedule") { try store.reschedule(message.id, notBefore: clock() + delay, attempts: attempts, error: reason) }
        }
    }

    /// Writes the outbox's state; a failure is logged and counted, and the message is sent again
    /// later (delivery is at least once: a message marked delivered late is sent twice, never lost).
    func persist(_ what: String, _ body: () throws -> Void) {
        do {
            try body()
        } catch {
            logger.error("cannot update the Slack outbox", metadata: ["step": "\(what)", "error": "\(error)"])
            MetricCache.counter("meeseeks_slack_outbox_store_failures_total").increment()
        }
    }

    /// Reads the outbox's state; a failure is logged and counted, and read as nothing.
    func lookUp<T>(_ body: () throws -> T?) -> T? {
        do {
            return try body()
        } catch {
            logger.error("cannot read the Slack outbox", metadata: ["error": "\(error)"])
            MetricCache.counter("meeseeks_slack_outbox_store_failures_total").increment()
            return nil
        }
    }
}
