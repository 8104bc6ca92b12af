import Foundation
import GRPCCore
import GRPCNIOTransportHTTP2
public import Logging
import MeeseeksCore
import MeeseeksGRPC
import Metrics
import SwiftProtobuf
import Synchronization

/// Keeps an agent connected to the box that leads: dial, register, relay, and on any failure
/// reconnect with jittered backoff, forever (until cancelled). With several boxes (HA), a
/// standby's refusal names the leader and the agent dials it at once; otherwise it tries the
/// next box of its list.
public struct AgentConnection: Sendable {
    let agent: Agent
    let boxes: [HostPort]
    let token: String
    let tls: AgentMain.TLS?
    let logger: Logger

    /// Plaintext, or TLS verifying the box against a CA (the system's by default), presenting a
    /// client certificate when one is given.
    var security: HTTP2ClientTransport.Posix.TransportSecurity {
        guard let tls else { return .plaintext }
        return .tls(
            .defaults { config in
                if let ca = tls.ca { config.trustRoots = .certificates([.file(path: ca, format: .pem)]) }
                if let certificate = tls.certificate, let key = tls.key {
                    config.certificateChain = [.file(path: certificate, format: .pem)]
                    config.privateKey = .file(path: key, format: .pem)
                }
            })
    }

    /// An IP literal is dialled as such: as a DNS name its authority would become the TLS SNI,
    /// where IP addresses are not allowed; the certificate is then checked against the IP.
    static func target(_ address: HostPort) -> any ResolvableTarget {
        var v4 = in_addr()
        var v6 = in6_addr()
        if inet_pton(AF_INET, address.host, &v4) == 1 { return .ipv4(host: address.host, port: address.port) }
        if inet_pton(AF_INET6, address.host, &v6) == 1 { return .ipv6(host: address.host, port: address.port) }
        return .dns(host: address.host, port: address.port)
    }

    public enum Event: Sendable {
        case connected(heartbeat: Int)
        case refused(String)
    }

    /// The metadata key in which a standby names the leader's gRPC address.
    public static let leaderKey = "meeseeks-leader"

    /// Runs until cancelled. A refused token or id is retried too (the box may be fixed), but slowly.
    public func run() async {
        var failures = 0
        var next = 0
        var leader: HostPort?
        while !Task.isCancelled {
            let started = Date()
            let address = leader ?? boxes[next % boxes.count]
            leader = nil
            let registered = Atomic<Bool>(false)
            do {
                try await connectOnce(to: address) { registered.store(true, ordering: .relaxed) }
            } catch let error as RPCError where error.code == .unavailable && Self.leaderHint(error) != nil {
                // A standby names the leader, which is dialled at once (a malformed name is
                // skipped: the list is tried instead).
                let named = Self.leaderHint(error) ?? ""
                logger.notice("this box does not lead; moving to the leader", metadata: ["box": "\(address)", "leader": "\(named)"])
                // A box answered: the cluster is up, perhaps electing a leader while the one
                // named is already gone. Keep retrying quickly rather than backing off.
                failures = min(failures, 1)
                if let hint = try? HostPort(parsing: named), hint != address {
                    leader = hint
                    await agent.detach()
                    continue
                }
                next += 1
            } catch let error as RPCError
                where error.code == .unauthenticated || error.code == .alreadyExists || error.code == .invalidArgument
            {
                logger.error("the box refused this agent", metadata: ["box": "\(address)", "reason": "\(error.message)"])
                failures = max(failures, 5)
            } catch {
                logger.warning("connection to the box lost", metadata: ["box": "\(address)", "error": "\(error)"])
                next += 1
            }
            await agent.detach()
            MetricCache.gauge("meeseeks_agent_connected").record(0)
            MetricCache.counter("meeseeks_agent_reconnects_total").increment()
            // The box took this agent: losing it now is a new outage, retried quickly again (a box
            // restarted many times in a row must not find its agents minutes away).
            if registered.load(ordering: .relaxed) || Date().timeIntervalSince(started) > 30 { failures = 0 }
            failures += 1
            let backoff = min(30, 0.25 * pow(2, Double(min(failures, 8))) * Double.random(in: 0.5...1.5))
            // With several boxes the next is tried soon: one of them leads.
            let wait = boxes.count > 1 && failures <= 2 * boxes.count ? min(backoff, 0.5) : backoff
            try? await Task.sleep(for: .milliseconds(Int(wait * 1000)))  // cancelled: the loop ends
        }
    }

    static func leaderHint(_ error: RPCError) -> String? {
        error.metadata[stringValues: leaderKey].first { !$0.isEmpty }
    }

    private func connectOnce(to address: HostPort, onRegistered: @escaping @Sendable () -> Void) async throws {
        try await withGRPCClient(
            transport: .http2NIOPosix(
                target: Self.target(address), transportSecurity: security,
                config: .defaults { config in if let name = tls?.serverName { config.http2.authority = name } })
        ) { client in
            let service = Meeseeks_Agent_V1_AgentService.Client(wrapping: client)
            var metadata = Metadata()
            metadata.addString("Bearer \(token)", forKey: "authorization")
            let outbound = Agent.makeOutbound()
            let registration = await agent.registration(token: token)
            let agent = agent
            let logger = logger
            try await service.connect(
                metadata: metadata,
                requestProducer: { writer in
                    try await writer.write(registration)
                    for await message in outbound { try await writer.write(message) }
                },
                onResponse: { response in
                    var heartbeat: Task<Void, Never>?
                    defer {
                        heartbeat?.cancel()
                        outbound.finish()
                    }
                    /// Heartbeats every `seconds` from now on (the box sets the pace, and slows it as its fleet grows).
                    func beat(every seconds: Int32) {
                        heartbeat?.cancel()
                        let interval = max(1, Int(seconds))
                        heartbeat = Task {
                            while !Task.isCancelled {
                                try? await Task.sleep(for: .seconds(interval))
                                let busy = await agent.busy
                                // Skipped when the queue is full: the output in it proves we are alive.
                                outbound.trySend(.with { $0.heartbeat = .with { $0.busy = Int32(busy) } })
                            }
                        }
                    }
                    for try await message in response.messages {
                        switch message.kind {
                        case .registered(let registered):
                            logger.notice(
                                "connected to the box",
                                metadata: ["agent": "\(registered.agentID)", "box": "\(address)", "epoch": "\(registered.epoch)"])
                            onRegistered()
                            await agent.attach(outbound, epoch: registered.epoch)
                            MetricCache.gauge("meeseeks_agent_connected").record(1)
                            beat(every: registered.heartbeatSeconds)
                        case .pace(let pace):
                            logger.debug("heartbeat interval changed", metadata: ["seconds": "\(pace.heartbeatSeconds)"])
                            beat(every: pace.heartbeatSeconds)
                        default:
                            await agent.received(message)
                        }
                    }
                })
        }
    }
}
