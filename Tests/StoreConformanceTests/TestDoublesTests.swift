import MeeseeksCore
import MeeseeksTesting
import Testing

/// The doubles beside `InMemoryStore` that the box's unit tests use.
@Suite("MeeseeksTesting doubles")
struct TestDoublesTests {

    @Test("a manual clock moves only when told, and reads the same through its closure")
    func manualClock() {
        let clock = ManualClock(at: 1_000)
        let now = clock.now
        #expect(now() == 1_000)
        clock.advance(by: 30.5)
        #expect(now() == 1_030.5 && clock.current == 1_030.5)
        clock.set(10)
        #expect(now() == 10)
    }

    @Test("a fake agent link records plans and cancels, and throws on dispatch when told")
    func fakeAgentLink() async {
        let link = FakeAgentLink()
        let plan = ExecutionPlan(
            jobID: 1, attempt: 1, command: "hello", argv: ["echo", "hi"], script: nil, environment: [:], timeout: 5,
            user: "U1")
        #expect(throws: Never.self) { try link.dispatch(plan) }
        link.failDispatches(with: FakeAgentLink.Unreachable())
        var second = plan
        second.jobID = 2
        #expect(throws: FakeAgentLink.Unreachable()) { try link.dispatch(second) }
        link.failDispatches(with: nil)
        await link.cancel(jobID: 1, attempt: 1)
        #expect(link.dispatched == [plan])
        #expect(link.undelivered == [second])
        #expect(link.cancels == [FakeAgentLink.Cancel(jobID: 1, attempt: 1)])
    }
}
