public import GRPCCore
import SwiftProtobuf

/// The standard `grpc.health.v1.Health` service: SERVING while the box runs.
public struct HealthService: Grpc_Health_V1_Health.SimpleServiceProtocol {
    public init() {}

    public func check(request: Grpc_Health_V1_HealthCheckRequest, context: ServerContext) async throws -> Grpc_Health_V1_HealthCheckResponse
    {
        guard request.service.isEmpty || request.service == "meeseeks.agent.v1.AgentService" else {
            throw RPCError(code: .notFound, message: "unknown service '\(request.service)'")
        }
        return .with { $0.status = .serving }
    }

    public func watch(
        request: Grpc_Health_V1_HealthCheckRequest, response: RPCWriter<Grpc_Health_V1_HealthCheckResponse>, context: ServerContext
    ) async throws {
        try await response.write(.with { $0.status = .serving })
        // Serving until the box stops: the stream stays open.
        while !Task.isCancelled { try await Task.sleep(for: .seconds(3600)) }
    }
}
