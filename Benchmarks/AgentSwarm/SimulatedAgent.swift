import Foundation
import GRPCCore
import GRPCNIOTransportHTTP2
import MeeseeksGRPC
import SwiftProtobuf
import Synchronization

/// One simulated agent: its own HTTP/2 connection and stream, reconnecting after a second when
/// either ends.
struct SimulatedAgent: Sendable {
    let id: String
    let labels: [String: String]
    let slots: Int
    let token: String
    let host: String
    let port: Int
    let tally: Tally
    let gate: DialGate

    func run() async {
        while !Task.isCancelled {
            let passed = GateOnce(gate)
            await gate.enter()
            var registered = false
            do {
                try await connectOnce(passed: passed, registered: &registered)
            } catch {
                FileHandle.standardError.write(Data("\(id): \(error)\n".utf8))
            }
            await passed.leave()
            if registered { tally.lost() }
            do { try await Task.sleep(for: .seconds(1)) } catch { return }
        }
    }

    private func connectOnce(passed: GateOnce, registered: inout Bool) async throws {
        let seen = Mutex(false)
        defer { registered = seen.withLock { $0 } }
        try await withGRPCClient(
            transport: .http2NIOPosix(target: .ipv4(address: host, port: port), transportSecurity: .plaintext)
        ) { client in
            let service = Meeseeks_Agent_V1_AgentService.Client(wrapping: client)
            var metadata = Metadata()
            metadata.addString("Bearer \(token)", forKey: "authorization")
            let (outbound, send) = AsyncStream.makeStream(of: Meeseeks_Agent_V1_AgentMessage.self)
            let register = registration()
            try await service.connect(
                metadata: metadata,
                requestProducer: { writer in
                    try await writer.write(register)
                    for await message in outbound { try await writer.write(message) }
                },
                onResponse: { response in
                    var heartbeat: Task<Void, Never>?
                    defer {
                        heartbeat?.cancel()
                        send.finish()
                    }
                    func restartHeartbeat(every seconds: Int32) {
                        heartbeat?.cancel()
                        heartbeat = Task { await beat(every: max(1, Int(seconds)), into: send) }
                    }
                    for try await message in response.messages {
                        switch message.kind {
                        case .registered(let registered):
                            seen.withLock { $0 = true }
                            tally.registered()
                            await passed.leave()
                            restartHeartbeat(every: registered.heartbeatSeconds)
                        case .pace(let pace):
                            restartHeartbeat(every: pace.heartbeatSeconds)
                        case .job(let job):
                            answer(job, into: send)
                        case .cancel, .ack, nil:
                            break
                        }
                    }
                })
        }
    }

    private func registration() -> Meeseeks_Agent_V1_AgentMessage {
        .with {
            $0.register = .with {
                $0.agentID = id
                $0.hostname = id
                $0.labels = labels
                $0.slots = Int32(slots)
                $0.version = "swarm"
            }
        }
    }

    /// Heartbeats like `mrmeeseeks`, the first after a random part of the interval so that ten
    /// thousand agents that registered together do not beat together.
    private func beat(every seconds: Int, into send: AsyncStream<Meeseeks_Agent_V1_AgentMessage>.Continuation) async {
        var wait = Duration.milliseconds(Int.random(in: 0..<(seconds * 1000)))
        while !Task.isCancelled {
            do { try await Task.sleep(for: wait) } catch { return }
            send.yield(.with { $0.heartbeat = .with { $0.busy = 0 } })
            wait = .seconds(seconds)
        }
    }

    /// Started, then succeeded with one line of output: the job's whole life on an agent.
    private func answer(_ job: Meeseeks_Agent_V1_JobAssignment, into send: AsyncStream<Meeseeks_Agent_V1_AgentMessage>.Continuation) {
        send.yield(
            .with {
                $0.started = .with {
                    $0.jobID = job.jobID
                    $0.attempt = job.attempt
                }
            })
        send.yield(
            .with {
                $0.result = .with {
                    $0.jobID = job.jobID
                    $0.attempt = job.attempt
                    $0.status = "succeeded"
                    $0.hasExitCode_p = true
                    $0.exitCode = 0
                    $0.outputOffset = 0
                    $0.outputTail = Data("ok \(id)\n".utf8)
                }
            })
        tally.job()
    }
}

/// Leaves the dial gate once, whichever comes first: registration or failure.
final class GateOnce: Sendable {
    private let gate: DialGate
    private let left = Mutex(false)

    init(_ gate: DialGate) { self.gate = gate }

    func leave() async {
        let first = left.withLock { done -> Bool in
            defer { done = true }
            return !done
        }
        if first { await gate.leave() }
    }
}
