import Foundation
import Hummingbird
import Logging
import MeeseeksAPI
import MeeseeksConfig
import MeeseeksCore
import MeeseeksHTTP
import MeeseeksSlack
import Prometheus
import ServiceLifecycle
import Synchronization
import UnixSignals

/// Everything a cluster store offers: the box's state, the lease, fencing, the inbox and
/// notifications between boxes (PostgreSQL).
public typealias ClusterStore = BoxStore & LeaseStore & FencedStore & InboxStore & ClusterSignals

/// The addresses this box listens on, known once its listeners are up.
final class ListeningAddresses: Sendable {
    private let state = Mutex<(grpc: HostPort?, http: HostPort?)>((nil, nil))
    func set(grpc: HostPort) { state.withLock { $0.grpc = grpc } }
    func set(http: HostPort) { state.withLock { $0.http = http } }
    var grpc: HostPort? { state.withLock { $0.grpc } }
    var http: HostPort? { state.withLock { $0.http } }
}

extension BoxServer {
    /// `meeseeks serve` on a shared database: every box is a front door; the one holding the lease
    /// leads. The composition root of that mode, read top to bottom.
    func runCluster(store: any ClusterStore) async throws {
        let holder = ConfigHolder(configuration, implicitAdmins: [BoxAPI.bootstrapUser], at: Date().timeIntervalSince1970)
        let addresses = ListeningAddresses()
        let replies = ChangeSignal<Int64>()
        let inboxWakes = ChangeSignal<Int>()
        let forwarder = InboxForwarder(inbox: store, replies: replies, logger: logger)
        let apiToken = options.environment["MEESEEKS_API_TOKEN"].flatMap { $0.isEmpty ? nil : $0 }
        if apiToken == nil { try Self.createLocalAdminToken(in: store, logger: logger) }
        let reloader = ConfigReloader(directory: options.configDirectory, holder: holder, logger: logger)
        let leadership = Leadership(
            store: store, member: member(addresses), ttl: options.leaseSeconds, logger: logger
        ) { lease in
            try await startTerm(
                lease, store: store, holder: holder, reloader: reloader, apiToken: apiToken, inboxWakes: inboxWakes, forwarder: forwarder)
        }
        let registry = registry
        let api = ClusterAPI(
            leadership: leadership, store: store, config: holder, forwarder: forwarder, bootstrapToken: apiToken,
            readinessChecks: { ["config": true, "store": true] }, exposition: { registry.emitToString() },
            memberID: member(addresses)().id, leaseSeconds: options.leaseSeconds)
        let slackIntake = DurableSlackIntake(ledger: store, forwarder: forwarder, logger: logger)
        let http = try httpApplication(api: api, slack: slackIntake, listening: { addresses.set(http: $0) })
        let grpc = try Self.split(options.grpc, flag: "--grpc")
        let lostAfter: @Sendable () -> Int = { holder.snapshot.configuration.settings.agentLostAfter }
        var agents = AgentServer(
            box: ClusterAgentHost(leadership: leadership, credentials: store, lostAfterSeconds: lostAfter),
            host: grpc.host, port: grpc.port, token: options.environment["MEESEEKS_AGENT_TOKEN"], tls: options.grpcTLS,
            lostAfter: lostAfter, logger: logger)
        agents.listening = { addresses.set(grpc: $0) }
        let logger = logger
        let services: [any Service] = [
            SignalReloader(reloader: reloader, logger: logger),
            LoopService(name: "cluster-signals") {
                // Replies wake the front doors waiting for them; new requests wake the leader.
                await withTaskGroup(of: Void.self) { group in
                    group.addTask { await Self.listen(store, "meeseeks_reply", logger) { replies.changed(Int64($0) ?? 0) } }
                    group.addTask { await Self.listen(store, "meeseeks_inbox", logger) { _ in inboxWakes.changed(0) } }
                }
            },
            agents, http,
            ElectionService(leadership: leadership, addresses: addresses, logger: logger),
        ]
        let group = ServiceGroup(
            configuration: .init(
                services: services.map { .init(service: $0) }, gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        try await group.run()
    }

    /// This box as the cluster knows it.
    func member(_ addresses: ListeningAddresses) -> @Sendable () -> ClusterMember {
        let id = options.memberID ?? "\(ProcessInfo.processInfo.hostName)-\(getpid())"
        let advertised = options.grpcAdvertise
        return {
            ClusterMember(
                id: id, grpcAddress: advertised ?? addresses.grpc?.description ?? "", httpAddress: addresses.http?.description ?? "",
                version: BuildVersion.current)
        }
    }

    /// What this box runs while it leads, started when it takes the lease.
    func startTerm(
        _ lease: Lease, store: any ClusterStore, holder: ConfigHolder, reloader: ConfigReloader, apiToken: String?,
        inboxWakes: ChangeSignal<Int>, forwarder: InboxForwarder
    ) async throws -> LeaderTerm {
        let box = try Orchestrator(store: store, config: holder, logger: logger, epoch: UInt64(max(0, lease.epoch)))
        let mailbox = APIMailbox { [holder] view in
            TextRenderer(phrases: PhrasePicker(persona: holder.snapshot.configuration.settings.persona)).render(view)
        }
        await box.register(transport: mailbox, kind: "api")
        // Jobs of a previous leader's embedded agent died with it (or never started).
        await box.recover(localAgent: LocalAgent.id)
        if options.localAgent { try await startLocalAgent(for: box, databasePath: nil) }
        // Socket Mode's envelopes are stored in the inbox before they are acknowledged, as the
        // front doors' are: a leader that dies loses none.
        let slack = await startSlack(
            box: box, store: store, socketIntake: DurableSlackIntake(ledger: store, forwarder: forwarder, logger: logger))
        let api = BoxAPI(
            box: box, mailbox: mailbox, bootstrapToken: apiToken, reloader: reloader, readiness: { ["config": true, "store": true] },
            exposition: { "" })
        let agentsBack = ReturningAgents(previouslyConnected: try store.agents(), orchestrator: box, excluding: LocalAgent.id)
        let inbox = InboxProcessor(
            inbox: store, lease: lease, api: api, slack: slack?.service, wakes: inboxWakes, agentsBack: agentsBack, logger: logger)
        let loops = Task {
            await withTaskGroup(of: Void.self) { group in
                if let slack {
                    group.addTask { await slack.outbox.run() }
                    if let socket = slack.socket { group.addTask { await socket.run() } }
                }
                group.addTask { await inbox.run() }
                group.addTask { await Self.purgeInbox(store, logger) }
                for loop in Housekeeping.loops(for: box) {
                    group.addTask { try? await loop.run() }  // a loop ends only when cancelled
                }
                await group.waitForAll()
            }
        }
        await box.dispatchAll()
        return LeaderTerm(lease: lease, orchestrator: box, api: api, slack: slack?.service, loops: loops, agentsBack: agentsBack)
    }

    /// Answered requests are kept an hour (Slack retries an event for minutes; a front door
    /// reads an answer within seconds), then deleted, once a minute.
    static func purgeInbox(_ store: any InboxStore, _ logger: Logger) async {
        while !Task.isCancelled {
            do {
                let purged = try store.purgeAnswered(before: Date().timeIntervalSince1970 - 3600)
                if purged > 0 { logger.info("answered front-door requests purged", metadata: ["count": "\(purged)"]) }
            } catch {
                logger.warning("cannot purge the inbox", metadata: ["error": "\(error)"])
            }
            do {
                try await Task.sleep(for: .seconds(60))
            } catch {
                return  // cancelled: the term ended
            }
        }
    }

    /// Listens for notifications on `channel` until cancelled, reconnecting after a failure.
    static func listen(_ store: any ClusterSignals, _ channel: String, _ logger: Logger, wake: @escaping @Sendable (String) -> Void) async {
        while !Task.isCancelled {
            do {
                try await store.listen(channel, wake: wake)
            } catch {
                logger.warning(
                    "lost the database's notifications; listening again", metadata: ["channel": "\(channel)", "error": "\(error)"])
            }
            try? await Task.sleep(for: .milliseconds(500))  // cancelled: the loop ends
        }
    }
}

/// Renews or takes the lease every second; on SIGTERM, a leader gives it up at once, so a
/// standby takes over in about a second.
struct ElectionService: Service {
    let leadership: Leadership
    let addresses: ListeningAddresses
    let logger: Logger

    func run() async throws {
        // Agents must be able to reach this box before it may lead.
        while addresses.grpc == nil, !Task.isCancelled { try await Task.sleep(for: .milliseconds(50)) }
        // The watchdog has a thread of its own: blocking database calls may hold every thread of
        // the shared pool exactly when the database is out of reach.
        let watching = Atomic<Bool>(true)
        let leadershipRef = leadership
        let watchdog = Thread {
            while watching.load(ordering: .relaxed) {
                leadershipRef.watchdog()
                Thread.sleep(forTimeInterval: 0.1)
            }
        }
        watchdog.start()
        defer { watching.store(false, ordering: .relaxed) }
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                await leadership.tick()
                try? await Task.sleep(for: .seconds(1))  // cancelled: the loop ends
            }
        }
        await leadership.stepDown(reason: "shutting down", release: true)
    }
}
