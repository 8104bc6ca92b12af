import MeeseeksCore

/// A box that starts (after a restart, a crash, or as a new leader) has no agent connected; the
/// agents it or the previous leader had reconnect within a second or two. Until they are back
/// (or `patience` runs out, for one that died meanwhile), requests wait instead of being refused
/// with "no connected agent": a restart is not an answer the user should see.
struct ReturningAgents: Sendable {
    let expected: Set<String>
    let deadline: ContinuousClock.Instant
    let orchestrator: Orchestrator

    /// How long a new leader waits at most for the previous leader's agents.
    static let patience: Duration = .seconds(5)

    /// The agents the previous leader had connected, by the store's record of them.
    init(previouslyConnected records: [AgentRecord], orchestrator: Orchestrator, excluding local: String) {
        expected = Set(records.filter { $0.connected && $0.id != local }.map(\.id))
        deadline = ContinuousClock.now + Self.patience
        self.orchestrator = orchestrator
    }

    func wait() async {
        while !expected.isEmpty, ContinuousClock.now < deadline, !Task.isCancelled {
            if expected.isSubset(of: await orchestrator.connectedAgentIDs()) { return }
            do {
                try await Task.sleep(for: .milliseconds(50))
            } catch {
                return  // cancelled: the term ends
            }
        }
    }
}
