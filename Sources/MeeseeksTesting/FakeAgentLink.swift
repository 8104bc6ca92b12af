public import MeeseeksCore
import Synchronization

/// An `AgentLink` that runs nothing: it records the plans it is handed and the cancels it is
/// asked for, and can be told to refuse dispatches (a stream that is gone).
///
/// ```swift
/// let link = FakeAgentLink()
/// // … the dispatcher starts a job on this agent …
/// #expect(link.dispatched.map(\.jobID) == [1])
/// link.failDispatches(with: FakeAgentLink.Unreachable())   // the next dispatch throws
/// ```
public final class FakeAgentLink: AgentLink {
    /// A cancel the box asked for.
    public struct Cancel: Hashable, Sendable {
        public var jobID: Int64
        public var attempt: Int

        public init(jobID: Int64, attempt: Int) {
            self.jobID = jobID
            self.attempt = attempt
        }
    }

    /// The error a failing link throws unless told another.
    public struct Unreachable: Error, Hashable, Sendable, CustomStringConvertible {
        public init() {}
        public var description: String { "the agent's stream is gone" }
    }

    private struct State {
        var dispatched: [ExecutionPlan] = []
        var undelivered: [ExecutionPlan] = []
        var cancels: [Cancel] = []
        var failure: (any Error)?
    }

    private let state = Mutex(State())

    public init() {}

    /// Plans handed over, in order.
    public var dispatched: [ExecutionPlan] { state.withLock { $0.dispatched } }
    /// Plans whose dispatch threw, in order.
    public var undelivered: [ExecutionPlan] { state.withLock { $0.undelivered } }
    /// Cancels asked for, in order.
    public var cancels: [Cancel] { state.withLock { $0.cancels } }

    /// From now on every dispatch throws `error`; nil delivers again.
    public func failDispatches(with error: (any Error)?) {
        state.withLock { $0.failure = error }
    }

    public func dispatch(_ plan: ExecutionPlan) throws {
        try state.withLock { state in
            if let failure = state.failure {
                state.undelivered.append(plan)
                throw failure
            }
            state.dispatched.append(plan)
        }
    }

    public func cancel(jobID: Int64, attempt: Int) async {
        state.withLock { $0.cancels.append(Cancel(jobID: jobID, attempt: attempt)) }
    }
}
