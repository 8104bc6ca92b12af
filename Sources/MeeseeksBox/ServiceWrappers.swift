import ServiceLifecycle

/// A long-running loop as a service: cancelled when the group shuts down.
struct LoopService: Service {
    let name: String
    let body: @Sendable () async -> Void

    func run() async throws {
        try await cancelWhenGracefulShutdown { await body() }
    }
}
