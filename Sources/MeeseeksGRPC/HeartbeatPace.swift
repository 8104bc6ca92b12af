/// How often agents heartbeat, and how long a silent one is kept.
///
/// A third of `agents.lost_after` while the fleet is small. Each heartbeat costs the box 100 to
/// 280 µs (wake-ups of an event loop and of a task, HTTP/2, gRPC framing), so 10,000 agents at 5 s
/// would keep a fifth of a core busy doing nothing: a big fleet is asked to space its heartbeats
/// out, so that all of them together send at most `budget` a second (BENCHMARKS.md). Dead hosts
/// and cut networks are found meanwhile by the kernel's TCP keepalive (`TransportKeepalive`),
/// within `lost_after`; heartbeats remain to find an agent process that hangs on a live host.
enum HeartbeatPace {
    /// Heartbeats a second the whole fleet may send.
    static let budget = 40

    /// The longest interval a fleet's size asks for: a hung agent is let go within 15 minutes
    /// however many agents there are (12,000 fill the budget at it).
    static let longest = 300

    /// A small fleet's interval, in seconds: a third of `lostAfter`, at least one.
    static func base(lostAfter: Int) -> Int {
        max(1, lostAfter / 3)
    }

    /// The interval, in seconds, for a fleet of `agents`.
    static func interval(agents: Int, lostAfter: Int) -> Int {
        let spread = agents / budget + (agents % budget == 0 ? 0 : 1)
        return max(base(lostAfter: lostAfter), min(spread, longest))
    }

    /// Silence after which a session that was asked to heartbeat every `interval` seconds ends:
    /// `lostAfter` at a small fleet's pace, three missed heartbeats at a slower one.
    static func silenceLimit(interval: Int, lostAfter: Int) -> Int {
        guard interval > base(lostAfter: lostAfter) else { return lostAfter }
        return max(lostAfter, interval.multipliedReportingOverflow(by: 3).overflow ? .max : interval * 3)
    }

    /// Whether a session asked for `current` is asked for `target` instead: only a longer interval
    /// (an agent that does not know `Pace` keeps its first one, so a shorter request would lose it),
    /// and half as long again at least, so that a fleet growing to thousands re-paces each session a
    /// few times, not at every arrival.
    static func repaces(current: Int, target: Int) -> Bool {
        target > current && target - current >= max(1, current / 2)
    }
}
