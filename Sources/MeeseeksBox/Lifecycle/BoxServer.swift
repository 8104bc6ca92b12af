import Foundation
import Hummingbird
public import Logging
import MeeseeksAPI
public import MeeseeksConfig
import MeeseeksCore
import MeeseeksExec
import MeeseeksHTTP
import MeeseeksSQLite
import MeeseeksSlack
import MeeseeksTwoFactor
import MeeseeksVault
import Prometheus
import ServiceLifecycle
import UnixSignals

/// `meeseeks serve`: loads the configuration, opens the store, starts the embedded agent and the
/// listeners, and runs until SIGTERM.
public struct BoxServer: Sendable {
    public struct Options: Sendable {
        public var configDirectory: String
        public var http: String
        public var grpc: String
        public var database: String?
        public var localAgent: Bool
        public var localSlots: Int
        public var environment: [String: String]
        /// The embedded agent's 2FA secrets file.
        public var twoFactorSecrets: String?
        /// Seconds running jobs get to finish on SIGTERM.
        public var grace: Double = 30
        /// TLS for the agents' listener.
        public var grpcTLS: TLSFiles?
        /// Reload when configuration files change, not only on SIGHUP.
        public var watch = false
        /// In a cluster: this box's name (default: hostname and pid), the gRPC address agents are
        /// sent to when it leads (default: the one it listens on), and the lease's life in seconds.
        public var memberID: String?
        public var grpcAdvertise: String?
        public var leaseSeconds: Double = 3

        public init(
            configDirectory: String, http: String, grpc: String, database: String?, localAgent: Bool, localSlots: Int,
            environment: [String: String], twoFactorSecrets: String? = nil
        ) {
            self.twoFactorSecrets = twoFactorSecrets
            self.configDirectory = configDirectory
            self.http = http
            self.grpc = grpc
            self.database = database
            self.localAgent = localAgent
            self.localSlots = localSlots
            self.environment = environment
        }
    }

    public struct StartupError: Error, CustomStringConvertible {
        public var description: String
    }

    let options: Options
    let configuration: Configuration
    let logger: Logger
    let registry: PrometheusCollectorRegistry

    /// - Parameter registry: where the metrics backend the executable bootstrapped keeps its values.
    public init(options: Options, configuration: Configuration, logger: Logger, registry: PrometheusCollectorRegistry) {
        self.options = options
        self.configuration = configuration
        self.logger = logger
        self.registry = registry
    }

    /// The composition root: each step builds one part and hands it to the next.
    public func run() async throws {
        // Before anything secret is loaded: jobs of the embedded agent run as this user and must
        // not read the box's environment or memory through /proc.
        if !ProcessHardening.makeUndumpable() { logger.warning("cannot make the box undumpable (prctl refused)") }
        ProcessHardening.surviveFileSizeLimit()
        raiseOpenFilesLimit()
        let location = DatabaseLocation.resolve(
            option: options.database, environment: options.environment, configuration: configuration, directory: options.configDirectory)
        guard case .sqlite(let databasePath) = location else {
            return try await runCluster(store: try openClusterStore(location))
        }
        let store = try openStore(at: databasePath)
        let holder = ConfigHolder(configuration, implicitAdmins: [BoxAPI.bootstrapUser], at: Date().timeIntervalSince1970)
        let box: Orchestrator
        do {
            box = try Orchestrator(store: store, config: holder, logger: logger)
        } catch {
            throw StartupError(description: "cannot read the running jobs from the database: \(error)")
        }
        let mailbox = APIMailbox { [holder] view in
            TextRenderer(phrases: PhrasePicker(persona: holder.snapshot.configuration.settings.persona)).render(view)
        }
        await box.register(transport: mailbox, kind: "api")
        // The agents connected before this start (a crash leaves them recorded so): requests wait for them.
        let agentsBack = ReturningAgents(previouslyConnected: try store.agents(), orchestrator: box, excluding: LocalAgent.id)
        await box.recover(localAgent: LocalAgent.id)
        if options.localAgent { try await startLocalAgent(for: box, databasePath: databasePath) }
        // Slack's requests are written to the inbox before they are acknowledged, and carried
        // out from there (after a kill -9, by the next start).
        let inboxWakes = ChangeSignal<Int>()
        let inbox = LocalInbox(store: store, wakes: inboxWakes)
        let slackIntake = DurableSlackIntake(
            ledger: store, forwarder: InboxForwarder(inbox: inbox, replies: ChangeSignal<Int64>(), logger: logger), logger: logger)
        let slack = await startSlack(box: box, store: store, socketIntake: slackIntake)
        let resolveHandles = try await resolveHandlesAtStart(slack: slack, holder: holder)
        let apiToken = options.environment["MEESEEKS_API_TOKEN"].flatMap { $0.isEmpty ? nil : $0 }
        if apiToken == nil { try Self.createLocalAdminToken(in: store, logger: logger) }
        let reloader = ConfigReloader(
            directory: options.configDirectory, holder: holder, logger: logger, resolveHandles: resolveHandles
        ) { outcome, reason in
            box.audit.record(
                AuditRecord(
                    action: .configReloaded, user: "box", outcome: outcome.applied ? "applied" : "refused", reason: reason,
                    detail: outcome.applied
                        ? "fingerprint \(outcome.fingerprint ?? "?")"
                        : "\(outcome.diagnostics.errors.count) error(s); kept the running configuration"))
        }
        let api = BoxAPI(
            box: box, mailbox: mailbox, bootstrapToken: apiToken, reloader: reloader,
            readiness: { [store, slack] in
                var checks = ["config": true, "store": store.database.isWritable]
                if let socket = slack?.socket { checks["slack_socket"] = socket.isConnected }
                return checks
            },
            exposition: { [registry] in registry.emitToString() }, agentsBack: agentsBack)
        let http = try httpApplication(api: api, slack: slack.map { _ in slackIntake })
        let grpc = try Self.split(options.grpc, flag: "--grpc")

        // Started in this order and stopped in reverse: listeners stop first, then the drain lets
        // jobs finish while the outbox still delivers.
        var services: [any Service] = [
            SignalReloader(reloader: reloader, logger: logger), Maintenance(store: store, holder: holder, logger: logger),
        ]
        if options.watch {
            services.append(ConfigWatcher(directory: options.configDirectory, holder: holder, reloader: reloader, logger: logger))
        }
        if let slack {
            services.append(LoopService(name: "slack-outbox") { await slack.outbox.run() })
            let processor = InboxProcessor(
                inbox: inbox, lease: LocalInbox.lease(startedAt: Date().timeIntervalSince1970), api: api, slack: slack.service,
                wakes: inboxWakes, agentsBack: agentsBack, logger: logger)
            services.append(LoopService(name: "slack-inbox") { await processor.run() })
            services.append(LoopService(name: "inbox-purge") { [logger] in await Self.purgeInbox(inbox, logger) })
        }
        services.append(Drain(box: box, store: store, hasOutbox: slack != nil, grace: options.grace, logger: logger))
        if let socket = slack?.socket { services.append(LoopService(name: "slack-socket") { await socket.run() }) }
        services.append(
            AgentServer(
                box: box, host: grpc.host, port: grpc.port, token: options.environment["MEESEEKS_AGENT_TOKEN"], tls: options.grpcTLS,
                lostAfter: { [config = box.config] in config.snapshot.configuration.settings.agentLostAfter }, logger: logger))
        services += Housekeeping.loops(for: box)
        services.append(http)
        let group = ServiceGroup(
            configuration: .init(
                services: services.map { .init(service: $0) }, gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        try await group.run()
    }

    /// PEM files for the gRPC listener: its certificate and key, and a CA to require client
    /// certificates from (mutual TLS).
    public struct TLSFiles: Sendable {
        public var certificate: String
        public var key: String
        public var clientCA: String?

        public init(certificate: String, key: String, clientCA: String?) {
            self.certificate = certificate
            self.key = key
            self.clientCA = clientCA
        }
    }

    /// A listener's `HOST:PORT` (port 0 picks a free one).
    static func split(_ address: String, flag: String) throws -> HostPort {
        do {
            return try HostPort(parsing: address, allowAnyPort: true)
        } catch {
            throw StartupError(description: "\(flag) \(error)")
        }
    }
}
