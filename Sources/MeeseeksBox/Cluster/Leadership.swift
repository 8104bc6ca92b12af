import Foundation
import Logging
import MeeseeksCore
import MeeseeksSlack
import Metrics

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

    private(set) var term: LeaderTerm?
    /// The leader's gRPC address, for agents dialling a standby.
    private(set) var leaderAddress: String?
    private var lastRenewal = ContinuousClock.now
    private let isLeader = Gauge(label: "meeseeks_leader")
    private let changes = Counter(label: "meeseeks_leader_changes_total")

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

    var leads: Bool { term != nil }

    /// One round: announce this box, then renew the lease held or try to take a free one.
    func tick() async {
        do {
            try store.announce(member())
        } catch {
            logger.warning("cannot announce this box to the cluster", metadata: ["error": "\(error)"])
        }
        if let term {
            await renew(term)
        } else {
            await tryToLead()
        }
    }

    private func renew(_ term: LeaderTerm) async {
        do {
            if try store.renewLease(term.lease, ttl: ttl) {
                lastRenewal = ContinuousClock.now
                return
            }
            await stepDown(reason: "the lease was lost")
        } catch {
            // Unsure whether it still holds: it may keep going only while the lease surely runs.
            let since = ContinuousClock.now - lastRenewal
            logger.error("cannot renew the lease", metadata: ["error": "\(error)", "since_seconds": "\(since.components.seconds)"])
            if since > .milliseconds(Int64(ttl * 600)) { await stepDown(reason: "the database is out of reach") }
        }
    }

    private func tryToLead() async {
        let lease: Lease
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
        lastRenewal = ContinuousClock.now
        // Every write this box makes from now on is fenced by this lease.
        store.fence(with: lease)
        do {
            term = try await startTerm(lease)
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
        guard let term else { return }
        self.term = nil
        leaderAddress = nil
        isLeader.record(0)
        logger.warning("this box no longer leads", metadata: ["reason": "\(reason)", "epoch": "\(term.lease.epoch)"])
        term.loops.cancel()
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
