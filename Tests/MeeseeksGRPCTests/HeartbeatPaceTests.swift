import Testing

@testable import MeeseeksGRPC

@Suite("Heartbeat pace and TCP keepalive")
struct HeartbeatPaceTests {
    @Test(
        "a third of lost_after for a small fleet; at most 40 heartbeats a second for a big one",
        arguments: [
            (agents: 0, lostAfter: 15, interval: 5), (1, 15, 5), (200, 15, 5), (201, 15, 6), (1_000, 15, 25),
            (10_000, 15, 250), (10_000, 60, 250), (100, 600, 200), (1, 2, 1), (1, 0, 1), (120, 3, 3), (121, 3, 4),
            (Int.max, 15, 300), (100_000, 15, 300), (100, 3_000, 1_000),
        ])
    func interval(agents: Int, lostAfter: Int, interval: Int) {
        #expect(HeartbeatPace.interval(agents: agents, lostAfter: lostAfter) == interval)
    }

    @Test(
        "three missed heartbeats, never under lost_after, never a trap",
        arguments: [(interval: 5, lostAfter: 15, limit: 15), (1, 3, 3), (1, 2, 2), (100, 15, 300), (3, 10, 10), (Int.max, 15, Int.max)])
    func silenceLimit(interval: Int, lostAfter: Int, limit: Int) {
        #expect(HeartbeatPace.silenceLimit(interval: interval, lostAfter: lostAfter) == limit)
    }

    @Test(
        "only longer, and by half again: a fleet growing to 10,000 re-paces a session a few times",
        arguments: [
            (current: 1, target: 2, repaces: true), (2, 3, true), (5, 7, true), (5, 6, false), (10, 14, false), (10, 15, true),
            (5, 5, false), (10, 5, false),
        ])
    func repaces(current: Int, target: Int, repaces: Bool) {
        #expect(HeartbeatPace.repaces(current: current, target: target) == repaces)
    }

    @Test("a session that registered into an empty fleet is re-paced at most ten times on the way to 10,000 agents")
    func fewRepaces() {
        var current = HeartbeatPace.interval(agents: 1, lostAfter: 15)
        var messages = 0
        for fleet in 1...10_000 {
            let target = HeartbeatPace.interval(agents: fleet, lostAfter: 15)
            if HeartbeatPace.repaces(current: current, target: target) {
                current = target
                messages += 1
            }
        }
        #expect(messages <= 10)
        #expect(current >= 167)  // within half again of the 250 s target
    }

    @Test(
        "keepalive finds a dead peer within two thirds of lost_after; Linux's limits hold",
        arguments: [
            (lostAfter: 15, idle: 5, interval: 1, window: 8), (3, 1, 1, 4), (60, 20, 6, 38), (0, 1, 1, 4),
            (10_000_000, 32_767, 32_767, 131_068),
        ])
    func keepalive(lostAfter: Int, idle: Int, interval: Int, window: Int) {
        let keepalive = TransportKeepalive(lostAfter: lostAfter)
        #expect(keepalive.idle == idle)
        #expect(keepalive.interval == interval)
        #expect(keepalive.probes == 3)
        #expect(keepalive.window == window)
    }
}
