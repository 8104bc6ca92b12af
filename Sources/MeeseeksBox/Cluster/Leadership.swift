import Foundation
import Logging
import MeeseeksCore
import MeeseeksSlack
import Metrics
import Synchronization

/// What a box runs while it leads: its orchestrator and API, and the leader-only loops (the
/// embedded agent, Slack delivery and Socket Mode, the inbox, housekeeping). Made when the box
/// takes the lease; stopped, all of it, the moment the lease is lost.
struct LeaderTerm: Sendable {
    let lease: Lease
    let orchestrator: Orchestrator
    let api: BoxAPI
    /// Carries out what front doors pass on (nil for a box alone, which has none).
    let slack: (any SlackProcessing)?
    /// Every leader-only loop, in one task: cancelled to step down.
    let loops: Task<Void, Never>
    /// Requests wait for the previous leader's agents before they are carried out.
    let agentsBack: ReturningAgents
}

/// How the leader carries out a Slack request a front door passed on: scheduled in the order
/// requests were claimed, processed in order per dialog.
protocol SlackProcessing: Sendable {
    func schedule(_ request: SlackRequest, dialogID: String) -> Task<Void, Never>
}

extension SlackService: SlackProcessing {}

/// This box's part in a cluster: it leads (it holds the lease and orchestrates) or it stands by
/// (a front door that passes requests to the leader through the database). Every second it
/// renews or tries to take the lease; it steps down at once when renewal fails, or when it has
/// not managed to renew for most of the lease's life (a box cut off from the database must stop
/// before another can take over).
actor Leadership {
    let store: any LeaseStore & FencedStore
    /// This box as the cluster knows it (its addresses are known once its listeners are up).
    let member: @Sendable () -> ClusterMember
    let ttl: Double
    let logger: Logger
    let startTerm: @Sendable (Lease) async throws -> LeaderTerm

    /// This process, in the lease: two processes started with the same `--member` are two
    /// holders (each would otherwise renew the other's lease: two leaders of one epoch).
    let holder: String

    /// The member a lease holder is (`member#process`).
    static func memberID(ofHolder holder: String) -> String {
        holder.split(separator: "#", maxSplits: 1).first.map(String.init) ?? holder
    }

    /// The term this box leads, outside the actor: read without waiting (by the front doors and
    /// the agent service), and ended by the watchdog even while a database call holds the actor.
    private let current = Mutex<LeaderTerm?>(nil)
    nonisolated var term: LeaderTerm? { current.withLock { $0 } }
    /// When the lease was last taken or renewed.
    private let renewedAt = Mutex(ContinuousClock.now)
    /// The leader's gRPC address, for agents dialling a standby.
    private(set) var leaderAddress: String?
    private let isLeader = Gauge(label: "meeseeks_leader")
    private let changes = Counter(label: "meeseeks_leader_changes_total")

    /// A leader not renewed for 60% of its lease stops, by its own clock, whatever it is doing:
    /// called every 100 ms from outside the actor (a renewal stuck in a cut-off network holds
    /// the actor), so it stops before the lease can run out and a standby take over.
    nonisolated func watchdog() {
        let limit = Duration.milliseconds(Int64(ttl * 600))
        let overdue = current.withLock { term -> LeaderTerm? in
            guard term != nil, ContinuousClock.now - renewedAt.withLock({ $0 }) > limit else { return nil }
            defer { term = nil }
            return term
        }
        guard let overdue else { return }
        end(overdue, reason: "the lease could not be renewed in time")
        Task { await overdue.orchestrator.stepDown() }
    }

    /// Stops at once everything only a leader runs, without waiting for its orchestrator (which
    /// a database call may hold): the loops, and the agents' connections.
    private nonisolated func end(_ term: LeaderTerm, reason: String) {
        isLeader.record(0)
        logger.warning("this box no longer leads", metadata: ["reason": "\(reason)", "epoch": "\(term.lease.epoch)"])
        term.loops.cancel()
        term.orchestrator.liveLinks.closeAll()
    }

    init(
        store: any LeaseStore & FencedStore, member: @escaping @Sendable () -> ClusterMember, ttl: Double, logger: Logger,
        startTerm: @escaping @Sendable (Lease) async throws -> LeaderTerm
    ) {
        self.store = store
        self.member = member
        self.ttl = ttl
        self.logger = logger
        self.startTerm = startTerm
        holder = member().id + "#" + String(UInt32.random(in: 0...UInt32.max), radix: 16)
        isLeader.record(0)
    }

    nonisolated var leads: Bool { term != nil }

    /// One round: renew the lease held or try to take a free one, then announce this box (after:
    /// a renewal that fails must be known as early as possible).
    func tick() async {
        if let term {
            await renew(term)
        } else {
            await tryToLead()
        }
        do {
            try store.announce(member())
        } catch {
            logger.warning("cannot announce this box to the cluster", metadata: ["error": "\(error)"])
        }
    }

    private func renew(_ term: LeaderTerm) async {
        let started = ContinuousClock.now
        do {
            if try store.renewLease(term.lease, ttl: ttl) {
                // Counted from before the call: the lease runs from when the database took it.
                renewedAt.withLock { $0 = started }
                return
            }
            await stepDown(reason: "the lease was lost")
        } catch {
            // Unsure whether it still holds: it may keep going only while the lease surely runs
            // (the watchdog ends the term at 60% of it).
            logger.error("cannot renew the lease", metadata: ["error": "\(error)"])
        }
    }

    private func tryToLead() async {
        let lease: Lease
        let started = ContinuousClock.now
        do {
            guard let taken = try store.acquireLease(member: holder, ttl: ttl) else {
                leaderAddress = try currentLeader()?.grpcAddress
                return
            }
            lease = taken
        } catch {
            logger.warning("cannot reach the lease", metadata: ["error": "\(error)"])
            return
        }
        renewedAt.withLock { $0 = started }
        // Every write this box makes from now on is fenced by this lease.
        store.fence(with: lease)
        do {
            let term = try await startTerm(lease)
            current.withLock { $0 = term }
            leaderAddress = member().grpcAddress
            isLeader.record(1)
            changes.increment()
            logger.notice("this box leads", metadata: ["member": "\(member().id)", "epoch": "\(lease.epoch)"])
        } catch {
            logger.error("cannot start leading; giving the lease back", metadata: ["error": "\(error)"])
            do {
                try store.releaseLease(lease)
            } catch {
                logger.error("cannot give the lease back; it expires by itself", metadata: ["error": "\(error)"])
            }
        }
    }

    /// Stops everything only a leader runs; the lease (if still held) is given back when asked.
    func stepDown(reason: String, release: Bool = false) async {
        leaderAddress = nil
        guard
            let term = current.withLock({ term -> LeaderTerm? in
                defer { term = nil }
                return term
            })
        else { return }
        end(term, reason: reason)
        await term.orchestrator.stepDown()
        if release {
            do {
                try store.releaseLease(term.lease)
            } catch {
                logger.error("cannot give the lease back; it expires by itself", metadata: ["error": "\(error)"])
            }
        }
    }

    private func currentLeader() throws -> ClusterMember? {
        let state = try store.leaseState()
        guard let leader = state.leader.map(Self.memberID(ofHolder:)), state.expiresIn > 0 else { return nil }
        return try store.members(within: 3 * ttl).first { $0.id == leader }
    }
}
