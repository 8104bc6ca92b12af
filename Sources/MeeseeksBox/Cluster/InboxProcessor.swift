import Foundation
import Logging
import MeeseeksAPI
import MeeseeksCore
import MeeseeksHTTP
import MeeseeksSlack

/// The leader's side of the inbox: it claims what front doors passed on (woken by the
/// database's notification, and once a second anyway), carries each request out — API calls on
/// its own API, Slack payloads through its Slack service — and answers. A request claimed by a
/// leader that died before answering is claimed again by the next one; the ids the request
/// creates (its job's origin, its dialog) make that harmless.
struct InboxProcessor: Sendable {
    let inbox: any InboxStore
    let lease: Lease
    let api: BoxAPI
    let slack: (any SlackProcessing)?
    let wakes: ChangeSignal<Int>
    let agentsBack: ReturningAgents
    let logger: Logger
    /// Requests carried out at once at most.
    static let concurrency = 64

    func run() async {
        await agentsBack.wait()
        await withTaskGroup(of: Void.self) { group in
            var running = 0
            while !Task.isCancelled {
                let version = wakes.version(of: 0)
                let claimed: [InboxRequest]
                do {
                    claimed = try inbox.claim(for: lease, limit: Self.concurrency)
                } catch {
                    logger.error("cannot read the inbox", metadata: ["error": "\(error)"])
                    claimed = []
                }
                for request in claimed {
                    if running >= Self.concurrency {
                        await group.next()
                        running -= 1
                    }
                    // Scheduled here, in claim order, so one dialog's requests keep their order.
                    let work = schedule(request)
                    group.addTask { await answer(request, await work.value) }
                    running += 1
                }
                if claimed.isEmpty { await wakes.wait(for: 0, after: version, timeout: 1) }
            }
        }
    }

    /// Starts carrying a request out; the task's value is the answer to record.
    private func schedule(_ request: InboxRequest) -> Task<[UInt8], Never> {
        switch request.kind {
        case "slack":
            guard let slack, let decoded = try? ForwardedAnswer.decoder.decode(SlackRequest.self, from: Data(request.payload)) else {
                // Not decodable (a newer front door?) or Slack is off here: answered empty, dropped.
                logger.error("cannot carry out a Slack request from a front door", metadata: ["inbox_id": "\(request.id)"])
                return Task { [] }
            }
            let processed = slack.schedule(decoded, dialogID: "s\(request.id)")
            return Task {
                await processed.value
                return []
            }
        case "api":
            return Task {
                let answer: ForwardedAnswer
                do {
                    let call = try ForwardedAnswer.decoder.decode(ForwardedCall.self, from: Data(request.payload))
                    answer = await call.execute(on: api, origin: "inbox:\(request.id)")
                } catch {
                    answer = .failure(.init(.badRequest, "the front door sent a request this leader cannot read"))
                }
                do {
                    return Array(try ForwardedAnswer.encoder.encode(answer))
                } catch {
                    return []
                }
            }
        default:
            logger.error("unknown request in the inbox", metadata: ["inbox_id": "\(request.id)", "kind": "\(request.kind)"])
            return Task { [] }
        }
    }

    private func answer(_ request: InboxRequest, _ response: [UInt8]) {
        do {
            try inbox.answer(request.id, response: response, lease: lease)
        } catch {
            logger.error("cannot answer a front door's request", metadata: ["inbox_id": "\(request.id)", "error": "\(error)"])
        }
    }
}
