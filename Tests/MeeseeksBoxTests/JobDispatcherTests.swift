import Crypto
import Logging
import MeeseeksConfig
import MeeseeksCore
import MeeseeksLabels
import MeeseeksTesting
import MeeseeksVault
import Testing

@testable import MeeseeksBox

/// The dispatcher on the in-memory store, a fake agent link and a clock moved by hand: no
/// processes, no sockets.
struct DispatcherBench {
    let clock = ManualClock(at: 1_000)
    let store = InMemoryStore(sealer: AESGCMSealer(key: SymmetricKey(size: .bits256)))
    let link = FakeAgentLink()
    var dispatcher: JobDispatcher
    var registry: AgentRegistry
    let snapshot: ConfigHolder.Snapshot

    static let reveal = CommandSpec(
        name: "reveal", summary: "r", action: .run([Template("/bin/echo"), Template("{{password}}")]),
        arguments: [ArgumentSpec(name: "password", kind: .text, secret: true)])
    static let nap = CommandSpec(name: "nap", summary: "n", action: .run([Template("/bin/true")]))
    static let policy = PolicySet(
        roles: ["sre": Role(name: "sre", members: [.user("U1")])], grants: [Grant(roles: ["sre"], commands: ["*"])])

    init(slots: Int = 1) throws {
        let configuration = Configuration(commands: [Self.reveal, Self.nap], policy: Self.policy)
        snapshot = ConfigHolder(configuration, at: 0).snapshot
        let metrics = BoxMetrics()
        let audit = AuditTrail(store: store, metrics: metrics, logger: Logger(label: "test"), clock: clock.now, knows: { _ in true })
        dispatcher = try JobDispatcher(
            store: store, audit: audit, changes: ChangeSignal<Int64>(), metrics: metrics, logger: Logger(label: "test"), clock: clock.now)
        registry = AgentRegistry(startedAt: clock.current)
        let record = AgentRecord(
            id: "a1", hostname: "h", labels: ["pool": "x"], commands: ["*"], slots: slots, version: "t", connected: true, lastSeen: 0)
        try registry.admit(record, session: "s1", link: link)
        dispatcher.attach("a1", slots: slots)
    }

    mutating func submit(_ command: String, _ arguments: [String: String] = [:]) throws -> Job {
        try dispatcher.submit(
            JobRequest(command: command, arguments: arguments, requester: "U1"), spec: snapshot.configuration.command(named: command)
        ).job
    }

    mutating func dispatch() -> [EndedJob] {
        dispatcher.dispatch(registry: registry, snapshot: snapshot)
    }
}

@Suite("The dispatcher: the only writer of job state")
struct JobDispatcherTests {
    @Test("a job starts on a free slot with its real secret; the store keeps only the mask")
    func startsWithSecrets() throws {
        var bench = try DispatcherBench()
        let job = try bench.submit("reveal", ["password": "hunter2"])
        #expect(try bench.store.job(job.id)?.arguments == ["password": maskedValue])
        _ = bench.dispatch()
        let plan = try #require(bench.link.dispatched.first)
        #expect(plan.argv == ["/bin/echo", "hunter2"] && plan.environment["MEESEEKS_ARG_PASSWORD"] == "hunter2")
        #expect(try bench.store.job(job.id)?.status == .running)
        #expect(bench.dispatcher.load.count(on: "a1") == 1)
    }

    @Test("with every slot taken the queue waits; an end frees the slot for the next job")
    func slots() throws {
        var bench = try DispatcherBench()
        let first = try bench.submit("nap")
        let second = try bench.submit("nap")
        _ = bench.dispatch()
        #expect(bench.link.dispatched.map(\.jobID) == [first.id])
        _ = bench.dispatcher.complete(first.id, attempt: 1, JobOutcome(status: .succeeded, exitCode: 0))
        _ = bench.dispatch()
        #expect(bench.link.dispatched.map(\.jobID) == [first.id, second.id])
    }

    @Test(
        "hand-backs wait longer each time, up to 30 s, and keep the secret",
        arguments: [(0, 0.5), (1, 1.0), (2, 2.0), (5, 16.0), (6, 30.0), (9, 30.0)])
    func backoff(handbacks: Int, delay: Double) throws {
        var bench = try DispatcherBench()
        let job = try bench.submit("reveal", ["password": "hunter2"])
        for attempt in 1...(handbacks + 1) {
            _ = try bench.store.requeue(job.id, attempt: attempt - 1, notBefore: 0)  // no-op on the first round
            _ = try bench.store.start(job.id, agent: "a1", at: bench.clock.current)
            if attempt <= handbacks { _ = try bench.store.requeue(job.id, attempt: attempt, notBefore: 0) }
        }
        let running = try #require(try bench.store.job(job.id))
        bench.dispatcher.handBack(job.id, attempt: running.attempt, because: "busy")
        #expect(try bench.store.job(job.id)?.notBefore == bench.clock.current + delay)
        #expect(try bench.store.secrets(of: job.id)?.arguments["password"] == "hunter2")
        let early = bench.dispatcher.deferredDue()
        #expect(!early)
        bench.clock.advance(by: delay)
        let due = bench.dispatcher.deferredDue()
        #expect(due)
    }

    @Test("a link that cannot deliver hands the job back; a missing secret fails it with the reason")
    func failures() throws {
        var bench = try DispatcherBench(slots: 2)
        bench.link.failDispatches(with: FakeAgentLink.Unreachable())
        let job = try bench.submit("nap")
        _ = bench.dispatch()
        #expect(try bench.store.job(job.id)?.status == .queued)
        #expect(try bench.store.handbacks(job.id) == 1)
        // A job stored with a masked secret but no sealed value cannot run as asked.
        let orphan = try bench.store.insert(
            Job(command: "reveal", arguments: ["password": maskedValue], requester: "U1", createdAt: 1), children: [], secrets: nil
        ).0
        bench.link.failDispatches(with: nil)
        bench.clock.advance(by: 1)
        let ended = bench.dispatch()
        #expect(ended.map(\.job.id).contains(orphan.id))
        #expect(try bench.store.job(orphan.id)?.reason?.contains("was not kept") == true)
    }

    @Test("a result counts once, for its attempt; losing an agent loses its running jobs")
    func endings() throws {
        var bench = try DispatcherBench()
        let job = try bench.submit("nap")
        _ = bench.dispatch()
        let stale = bench.dispatcher.complete(job.id, attempt: 2, JobOutcome(status: .succeeded))
        let first = bench.dispatcher.complete(job.id, attempt: 1, JobOutcome(status: .failed, exitCode: 3))
        let repeated = bench.dispatcher.complete(job.id, attempt: 1, JobOutcome(status: .succeeded))
        #expect(stale.isEmpty && repeated.isEmpty)
        #expect(first.map(\.job.status) == [.failed])
        let next = try bench.submit("nap")
        _ = bench.dispatch()
        let lost = bench.dispatcher.loseJobs(on: "a1", reason: "gone")
        #expect(lost.map(\.job.id) == [next.id] && lost.first?.job.status == .lost)
        #expect(bench.dispatcher.load.count(on: "a1") == 0)
    }

    @Test("a broadcast ends when its last sub-job does, even when one end was written but not counted")
    func broadcastCountsDown() throws {
        var bench = try DispatcherBench()
        for id in ["a2", "a3"] {
            let record = AgentRecord(
                id: id, hostname: "h", labels: ["pool": "x"], commands: ["*"], slots: 1, version: "t", connected: true, lastSeen: 0)
            try bench.registry.admit(record, session: "s-\(id)", link: FakeAgentLink())
            bench.dispatcher.attach(id, slots: 1)
        }
        let parent = try bench.dispatcher.submit(
            JobRequest(command: "nap", arguments: [:], requester: "U1", targets: ["a1", "a2", "a3"], mode: .all),
            spec: DispatcherBench.nap
        ).job
        _ = bench.dispatch()
        let children = try bench.store.jobs(JobQuery(parentID: parent.id, limit: 10, oldestFirst: true))
        #expect(children.map(\.status) == [.running, .running, .running])
        let done = JobOutcome(status: .succeeded, exitCode: 0)
        #expect(bench.dispatcher.complete(children[2].id, attempt: 1, done).isEmpty)
        // The first sub-job's end reaches the store, but its write reported a failure: nobody counted it.
        _ = try bench.store.finish(children[0].id, attempt: 1, outcome: done, at: 1_001)
        #expect(bench.dispatcher.complete(children[1].id, attempt: 1, done).isEmpty)
        #expect(try bench.store.job(parent.id)?.status == .running)
        // Its agent delivers the result again: the broadcast is checked against the store and ends.
        let ended = bench.dispatcher.complete(children[0].id, attempt: 1, done)
        #expect(ended.map(\.job.id) == [parent.id] && ended.first?.job.status == .succeeded)
        #expect(ended.first?.children.count == 3)
    }
}

@Suite("The agent registry")
struct AgentRegistryTests {
    func record(_ id: String) -> AgentRecord {
        AgentRecord(id: id, hostname: "h", labels: ["pool": "x"], commands: ["*"], slots: 1, version: "t", connected: true, lastSeen: 0)
    }

    func refuses(_ registry: AgentRegistry, _ record: AgentRecord, session: String) -> Bool {
        var copy = registry
        do {
            try copy.admit(record, session: session, link: FakeAgentLink())
            return false
        } catch {
            return true
        }
    }

    @Test("one live connection per id; nobody takes the embedded agent's")
    func admission() throws {
        var registry = AgentRegistry(startedAt: 0)
        try registry.admit(record("a1"), session: "s1", link: FakeAgentLink())
        #expect(refuses(registry, record("a1"), session: "s2"))
        try registry.admit(record("a1"), session: "s1", link: FakeAgentLink())  // the same session again
        #expect(refuses(registry, record(LocalAgent.id), session: "x"))
        try registry.admit(record(LocalAgent.id), session: LocalAgent.id, link: FakeAgentLink(), embedded: true)
        // The end of an old session does not remove a newer one.
        #expect(registry.remove("a1", session: "old", lastContact: 5) == nil)
        #expect(registry.remove("a1", session: "s1", lastContact: 5)?.connected == false)
        try registry.admit(record("a1"), session: "s2", link: FakeAgentLink())
    }

    /// (absent since, now, lost after) → lost?  An agent not seen since the box started gets
    /// the reconnect allowance on top.
    @Test(
        "absent agents are overdue after lost_after (plus the allowance when never seen)",
        arguments: [
            (Double?.some(100), 109.0, false), (Double?.some(100), 110.0, true), (Double?.none, 144.0, false), (Double?.none, 145.0, true),
        ])
    func overdue(absentSince: Double?, now: Double, lost: Bool) throws {
        var registry = AgentRegistry(startedAt: 100)
        if let absentSince {
            try registry.admit(record("a1"), session: "s", link: FakeAgentLink())
            _ = registry.remove("a1", session: "s", lastContact: absentSince)
        }
        #expect(!registry.overdue(among: ["a1"], now: now, lostAfter: 10).isEmpty == lost)
    }
}
