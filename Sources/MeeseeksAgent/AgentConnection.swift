import Foundation
import GRPCCore
import GRPCNIOTransportHTTP2
public import Logging
import MeeseeksGRPC
import MeeseeksCore
import Metrics
import SwiftProtobuf

/// Keeps an agent connected to its box: dial, register, relay, and on any failure reconnect with
/// jittered backoff, forever (until cancelled).
public struct AgentConnection: Sendable {
    let agent: Agent
    let host: String
    let port: Int
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
    var target: any ResolvableTarget {
        var v4 = in_addr(), v6 = in6_addr()
        if inet_pton(AF_INET, host, &v4) == 1 { return .ipv4(host: host, port: port) }
        if inet_pton(AF_INET6, host, &v6) == 1 { return .ipv6(host: host, port: port) }
        return .dns(host: host, port: port)
    }

    public enum Event: Sendable {
        case connected(heartbeat: Int)
        case refused(String)
    }

    /// Runs until cancelled. A refused token or id is retried too (the box may be fixed), but slowly.
    public func run() async {
        var failures = 0
        while !Task.isCancelled {
            let started = Date()
            do {
                try await connectOnce()
            } catch let error as RPCError where error.code == .unauthenticated || error.code == .alreadyExists || error.code == .invalidArgument {
                logger.error("the box refused this agent", metadata: ["reason": "\(error.message)"])
                failures = max(failures, 5)
            } catch {
                logger.warning("connection to the box lost", metadata: ["error": "\(error)"])
            }
            await agent.detach()
            MetricCache.gauge("meeseeks_agent_connected").record(0)
            MetricCache.counter("meeseeks_agent_reconnects_total").increment()
            if Date().timeIntervalSince(started) > 30 { failures = 0 }
            failures += 1
            let backoff = min(30, 0.25 * pow(2, Double(min(failures, 8))) * Double.random(in: 0.5...1.5))
            try? await Task.sleep(for: .milliseconds(Int(backoff * 1000)))
        }
    }

    private func connectOnce() async throws {
        try await withGRPCClient(
            transport: .http2NIOPosix(
                target: target, transportSecurity: security,
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
                    for try await message in response.messages {
                        if case .registered(let registered)? = message.kind {
                            logger.notice("connected to the box", metadata: ["agent": "\(registered.agentID)"])
                            await agent.attach(outbound)
                            MetricCache.gauge("meeseeks_agent_connected").record(1)
                            let interval = max(1, Int(registered.heartbeatSeconds))
                            heartbeat = Task {
                                while !Task.isCancelled {
                                    try? await Task.sleep(for: .seconds(interval))
                                    let busy = await agent.busy
                                    // Skipped when the queue is full: the output in it proves we are alive.
                                    outbound.trySend(.with { $0.heartbeat = .with { $0.busy = Int32(busy) } })
                                }
                            }
                        } else {
                            await agent.received(message)
                        }
                    }
                })
        }
    }
}
