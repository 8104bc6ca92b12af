import Foundation
import GRPCCore
import GRPCNIOTransportHTTP2
import Logging
import MeeseeksCore
import MeeseeksGRPC
import ServiceLifecycle
import X509

/// The gRPC listener for agents (and `grpc.health.v1.Health`), as a service.
struct AgentServer: Service {
    let box: any AgentHost
    let host: String
    let port: Int
    let token: String?
    let tls: BoxServer.TLSFiles?
    /// `agents.lost_after` now: each new connection's TCP keepalive is set from it.
    let lostAfter: @Sendable () -> Int
    let logger: Logger
    /// Told the address it listens on once it does (port 0 picks one).
    var listening: @Sendable (HostPort) -> Void = { _ in }

    /// Plaintext, TLS with the box's certificate, or mutual TLS when a client CA is given.
    var security: HTTP2ServerTransport.Posix.TransportSecurity {
        guard let tls else { return .plaintext }
        return .tls(
            certificateChain: [.file(path: tls.certificate, format: .pem)], privateKey: .file(path: tls.key, format: .pem)
        ) { config in
            if let clientCA = tls.clientCA {
                // Clients are known by their CA, not by a name: there is no hostname to check them against.
                config.clientCertificateVerification = .noHostnameVerification
                config.trustRoots = .certificates([.file(path: clientCA, format: .pem)])
            }
        }
    }

    /// The subject's common names and the DNS names of a client certificate, when the agent
    /// presented one (mutual TLS).
    static func certificateNames(_ context: ServerContext) -> [String]? {
        guard let posix = context.transportSpecific as? HTTP2ServerTransport.Posix.Context, let certificate = posix.peerCertificate else {
            return nil
        }
        var names: [String] = []
        for name in certificate.subject {
            for attribute in name where attribute.type == .RDNAttributeType.commonName {
                names.append(String(describing: attribute.value))
            }
        }
        do {
            for alternative in try certificate.extensions.subjectAlternativeNames.map(Array.init) ?? [] {
                if case .dnsName(let dns) = alternative { names.append(dns) }
            }
        } catch {
            // A malformed extension names nobody: the certificate's common name alone counts.
        }
        return names
    }

    func run() async throws {
        let (lostAfter, logger) = (lostAfter, logger)
        let transport = HTTP2ServerTransport.Posix(
            address: .ipv4(host: host, port: port), transportSecurity: security,
            config: .defaults { config in
                // The transport's only hook on an accepted connection (named for debugging).
                config.channelDebuggingCallbacks.onAcceptTCPConnection = { channel in
                    TransportKeepalive(lostAfter: lostAfter()).apply(to: channel) { error in
                        logger.warning(
                            "TCP keepalive is off for an agent connection; only its heartbeats will tell if it is gone",
                            metadata: ["error": "\(error)"])
                    }
                }
            })
        let server = GRPCServer(
            transport: transport,
            services: [AgentService(host: box, token: token, logger: logger, certificateNames: Self.certificateNames), HealthService()])
        try await withThrowingDiscardingTaskGroup { group in
            group.addTask { try await server.serve() }
            if let address = try await transport.listeningAddress.ipv4 {
                logger.notice(
                    "grpc listening",
                    metadata: [
                        "address": "\(address.host):\(address.port)",
                        "tls": "\(tls == nil ? "off" : tls?.clientCA == nil ? "on" : "mutual")",
                    ])
                FileHandle.standardOutput.write(Data("meeseeks: grpc listening on \(address.host):\(address.port)\n".utf8))
                listening(HostPort(host: address.host, port: address.port))
            }
            if token == nil { logger.warning("MEESEEKS_AGENT_TOKEN is not set: every remote agent will be refused") }
            try await gracefulShutdown()
            server.beginGracefulShutdown()
        }
    }
}
