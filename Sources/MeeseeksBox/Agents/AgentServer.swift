import Foundation
import GRPCCore
import GRPCNIOTransportHTTP2
import Logging
import MeeseeksCore
import MeeseeksGRPC
import ServiceLifecycle

/// The gRPC listener for agents (and `grpc.health.v1.Health`), as a service.
struct AgentServer: Service {
    let box: any AgentHost
    let host: String
    let port: Int
    let token: String?
    let tls: BoxServer.TLSFiles?
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

    func run() async throws {
        let transport = HTTP2ServerTransport.Posix(address: .ipv4(host: host, port: port), transportSecurity: security)
        let server = GRPCServer(
            transport: transport,
            services: [AgentService(host: box, token: token, logger: logger), HealthService()])
        try await withThrowingDiscardingTaskGroup { group in
            group.addTask { try await server.serve() }
            if let address = try await transport.listeningAddress.ipv4 {
                logger.notice(
                    "grpc listening",
                    metadata: ["address": "\(address.host):\(address.port)", "tls": "\(tls == nil ? "off" : tls?.clientCA == nil ? "on" : "mutual")"])
                FileHandle.standardOutput.write(Data("meeseeks: grpc listening on \(address.host):\(address.port)\n".utf8))
                listening(HostPort(host: address.host, port: address.port))
            }
            if token == nil { logger.warning("MEESEEKS_AGENT_TOKEN is not set: every remote agent will be refused") }
            try await gracefulShutdown()
            server.beginGracefulShutdown()
        }
    }
}
