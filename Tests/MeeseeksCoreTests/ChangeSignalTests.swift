import MeeseeksCore
import Testing

/// Waits here have an hour's timeout, so one that returns was ended by what the test did; the
/// suite's time limit turns a wait that never ends into a failure.
@Suite("ChangeSignal: a wait ends on the change, the timeout or cancellation, whichever is first", .timeLimit(.minutes(1)))
struct ChangeSignalTests {
    @Test("a timeout shorter than it takes to start waiting still ends the wait (schemathesis found this hang)")
    func tinyTimeouts() async {
        let signal = ChangeSignal<String>()
        for _ in 0..<2000 {
            await signal.wait(for: "d", after: signal.version(of: "d"), timeout: 1e-9)
        }
    }

    @Test("a change wakes the waiter long before its timeout")
    func changeWakes() async throws {
        let signal = ChangeSignal<String>()
        let version = signal.version(of: "d")
        async let waited: Void = signal.wait(for: "d", after: version, timeout: 3600)
        try await Task.sleep(for: .milliseconds(50))
        signal.changed("d")
        await waited
        #expect(signal.version(of: "d") != version)
    }

    @Test("a change made before the wait began returns at once")
    func changedBefore() async {
        let signal = ChangeSignal<String>()
        let version = signal.version(of: "d")
        signal.changed("d")
        await signal.wait(for: "d", after: version, timeout: 3600)
    }

    @Test("cancelling the waiting task ends the wait")
    func cancellation() async {
        let signal = ChangeSignal<String>()
        let task = Task { await signal.wait(for: "d", after: signal.version(of: "d"), timeout: 3600) }
        try? await Task.sleep(for: .milliseconds(50))
        task.cancel()
        await task.value
        #expect(task.isCancelled)
    }

    @Test("the timeout ends a wait nothing wakes")
    func timeout() async {
        let signal = ChangeSignal<String>()
        let clock = ContinuousClock()
        let start = clock.now
        await signal.wait(for: "d", after: signal.version(of: "d"), timeout: 0.05)
        #expect(clock.now - start >= .milliseconds(50))
    }
}
