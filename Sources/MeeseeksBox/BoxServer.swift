import Foundation
import Hummingbird
public import Logging
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

    public func run() async throws {
        // Before anything secret is loaded: jobs of the embedded agent run as this user and must
        // not read the box's environment or memory through /proc.
        if !ProcessHardening.makeUndumpable() { logger.warning("cannot make the box undumpable (prctl refused)") }
        let directory = options.configDirectory
        let databasePath = options.database
            ?? configuration.settings.paths.database.map { ConfigLoader.resolve($0, in: directory) }
            ?? "\(directory)/meeseeks.db"
        let sealer: AESGCMSealer
        do {
            let (key, source) = try SecretKey.load(environment: options.environment, file: databasePath + ".key")
            sealer = AESGCMSealer(key: key)
            logger.info("secrets at rest are sealed", metadata: ["key": "\(source)"])
        } catch {
            throw StartupError(description: error.description)
        }
        let store: SQLiteStore
        do {
            store = try SQLiteStore(path: databasePath, sealer: sealer)
        } catch {
            throw StartupError(description: "cannot open the database \(databasePath): \(error)")
        }
        // The integrity check runs once, here: readiness must stay cheap.
        do {
            let verdict = try store.database.query("PRAGMA quick_check").first?.string(0) ?? "no answer"
            guard verdict == "ok" else { throw StartupError(description: "the database \(databasePath) failed its integrity check: \(verdict)") }
        } catch let error as StartupError {
            throw error
        } catch {
            throw StartupError(description: "cannot check the database \(databasePath): \(error)")
        }
        logger.info("database open", metadata: ["path": "\(databasePath)"])

        let now = Date().timeIntervalSince1970
        let holder = ConfigHolder(configuration, implicitAdmins: [BoxAPI.bootstrapUser], at: now)
        let box = Box(store: store, config: holder, logger: logger)
        let mailbox = APIMailbox { [holder] view in
            TextRenderer(phrases: PhrasePicker(persona: holder.snapshot.configuration.settings.persona)).render(view)
        }
        await box.register(transport: mailbox, kind: "api")
        await box.recover(localAgent: LocalAgent.id)

        if options.localAgent {
            // Jobs never see the box's credentials, nor the key that seals its secrets.
            let jobEnvironment = options.environment.filter { key, _ in
                !(key.hasPrefix("SLACK_") || ["MEESEEKS_AGENT_TOKEN", "MEESEEKS_API_TOKEN", "MEESEEKS_SECRET_KEY", "MEESEEKS_DB", "PGPASSWORD"].contains(key))
            }
            let secrets = options.twoFactorSecrets
                ?? configuration.settings.paths.twoFactorSecrets.map { ConfigLoader.resolve($0, in: directory) }
            var gate: TwoFactorGate?
            if let secrets {
                gate = TwoFactorGate(secrets: secrets)
                do {
                    let users = try gate!.check()
                    logger.info("2FA secrets loaded for the embedded agent", metadata: ["users": "\(users)"])
                    if let problem = gate!.stateProblem() {
                        logger.error("2FA jobs will be refused until the replay state can be kept", metadata: ["problem": "\(problem)"])
                    }
                } catch {
                    throw StartupError(description: error.description)
                }
            }
            // Scripts go to a fresh private folder in the user's runtime directory (or the
            // database's folder): never a predictable name in a shared /tmp.
            let runtime = options.environment["XDG_RUNTIME_DIR"].flatMap { $0.isEmpty ? nil : $0 }
                ?? (databasePath as NSString).deletingLastPathComponent
            let executor: JobExecutor
            do {
                executor = try JobExecutor(environment: jobEnvironment, scratchParent: runtime.isEmpty ? "." : runtime, gate: gate)
            } catch {
                throw StartupError(description: "\(error)")
            }
            let agent = LocalAgent(executor: executor, reporter: box, slots: options.localSlots)
            await box.connect(agent.record, link: agent)
        }
        let slack = await startSlack(box: box, store: store)
        let apiToken = options.environment["MEESEEKS_API_TOKEN"].flatMap { $0.isEmpty ? nil : $0 }
        if apiToken == nil { try Self.createLocalAdminToken(in: store, logger: logger) }

        let slackDirectory = slack?.directory
        let resolveHandles: @Sendable (Configuration) async -> HandleCheck = { configuration in
            guard let slackDirectory else { return HandleCheck() }
            return Self.check(await slackDirectory.resolve(Self.handles(in: configuration)), in: configuration)
        }
        if let slackDirectory {
            if Self.handles(in: configuration).isEmpty {
                // Names for the text the box shows; nothing waits for them.
                Task { _ = await slackDirectory.resolve([]) }
            } else {
                let check = await resolveHandles(configuration)
                guard check.problems.isEmpty else {
                    throw StartupError(description: check.problems.map(\.description).joined(separator: "\n"))
                }
                holder.replace(with: configuration, resolvedHandles: check.resolved, at: holder.snapshot.loadedAt)
            }
        }
        let reloader = ConfigReloader(directory: directory, holder: holder, logger: logger, resolveHandles: resolveHandles) { outcome, reason in
            await box.record(
                AuditRecord(
                    action: "config.reloaded", user: "box", outcome: outcome.applied ? "applied" : "refused", reason: reason,
                    detail: outcome.applied
                        ? "fingerprint \(outcome.fingerprint ?? "?")" : "\(outcome.diagnostics.errors.count) error(s); kept the running configuration"))
        }
        let registry = registry
        let api = BoxAPI(
            box: box, mailbox: mailbox, bootstrapToken: apiToken, reloader: reloader,
            readiness: { [store, slack] in
                var checks = ["config": true, "store": store.database.isWritable]
                if let socket = slack?.socket { checks["slack_socket"] = socket.isConnected }
                return checks
            },
            exposition: { registry.emitToString() })

        let router = Router()
        APIRoutes<BasicRequestContext>(service: api).add(to: router)
        SlackRoutes<BasicRequestContext>(service: slack?.service, signingSecret: options.environment["SLACK_SIGNING_SECRET"])
            .add(to: router)
        let address = try Self.split(options.http, flag: "--http")
        let logger = logger
        let app = Application(
            router: router, configuration: .init(address: .hostname(address.host, port: address.port), serverName: "meeseeks"),
            onServerRunning: { channel in
                let port = channel.localAddress?.port ?? address.port
                logger.notice("http listening", metadata: ["address": "\(address.host):\(port)"])
                FileHandle.standardOutput.write(Data("meeseeks: http listening on \(address.host):\(port)\n".utf8))
            },
            logger: logger)

        var services: [any Service] = [
            SignalReloader(reloader: reloader, logger: logger),
            Maintenance(store: store, holder: holder, logger: logger),
        ]
        if options.watch {
            services.append(ConfigWatcher(directory: directory, holder: holder, reloader: reloader, logger: logger))
        }
        // Started in this order and stopped in reverse: listeners stop first, then the drain lets
        // jobs finish while the outbox still delivers.
        if let slack {
            services.append(LoopService(name: "slack-outbox") { await slack.outbox.run() })
            services.append(LoopService(name: "slack-inbox") { await slack.service.run() })
        }
        services.append(Drain(box: box, store: store, hasOutbox: slack != nil, grace: options.grace, logger: logger))
        if let socket = slack?.socket { services.append(LoopService(name: "slack-socket") { await socket.run() }) }
        let grpcAddress = try Self.split(options.grpc, flag: "--grpc")
        services.append(
            AgentServer(
                box: box, host: grpcAddress.host, port: grpcAddress.port, token: options.environment["MEESEEKS_AGENT_TOKEN"],
                tls: options.grpcTLS, logger: logger))
        services.append(LoopService(name: "dialog-expiry") {
            while !Task.isCancelled {
                try? await Task.sleep(for: .seconds(5))
                await box.expireIdleDialogs()
            }
        })
        services.append(LoopService(name: "reaper") {
            // Lost jobs once a second; handed-back jobs whose backoff passed, four times a second.
            var tick = 0
            while !Task.isCancelled {
                if tick % 4 == 0 { await box.reapLostJobs() }
                await box.dispatchDeferred()
                tick &+= 1
                try? await Task.sleep(for: .milliseconds(250))
            }
        })
        services.append(app)
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

    struct Slack: Sendable {
        var service: SlackService
        var outbox: SlackOutbox
        var socket: SocketModeClient?
        var api: SlackWebAPI
        var directory: SlackDirectory
    }

    /// Handles Slack does not know (or knows twice) as errors at the roles that name them.
    static func check(_ resolution: SlackDirectory.HandleResolution, in configuration: Configuration) -> HandleCheck {
        var problems: [Diagnostic] = []
        for role in configuration.policy.roles.values.sorted(by: { $0.name < $1.name }) {
            for case .handle(let name) in role.members {
                if resolution.unknown.contains(name) {
                    problems.append(.error("unknown-handle", at: role.position, "role '\(role.name)': no Slack user has the name @\(name); use the user ID"))
                } else if resolution.ambiguous.contains(name) {
                    problems.append(.error("ambiguous-handle", at: role.position, "role '\(role.name)': several Slack users have the name @\(name); use the user ID"))
                }
            }
        }
        return HandleCheck(resolved: resolution.resolved, problems: problems)
    }

    /// The `@handle` members of a policy.
    static func handles(in configuration: Configuration) -> Set<String> {
        Set(configuration.policy.roles.values.flatMap(\.members).compactMap { member in
            if case .handle(let name) = member { return name }
            return nil
        })
    }

    /// Slack when it is configured: the outbox, the inbound queue, and Socket Mode with an app token.
    func startSlack(box: Box, store: SQLiteStore) async -> Slack? {
        let env = options.environment
        let bot = env["SLACK_BOT_TOKEN"].flatMap { $0.isEmpty ? nil : $0 }
        let app = env["SLACK_APP_TOKEN"].flatMap { $0.isEmpty ? nil : $0 }
        guard bot != nil || app != nil else {
            logger.notice("no Slack settings (SLACK_BOT_TOKEN or SLACK_APP_TOKEN): Slack is off; use the API or `meeseeks chat`")
            return nil
        }
        if bot == nil { logger.warning("SLACK_BOT_TOKEN is not set: replies cannot be posted") }
        if app == nil, (env["SLACK_SIGNING_SECRET"] ?? "").isEmpty {
            logger.warning("SLACK_SIGNING_SECRET is not set: every Slack request will be refused")
        }
        let api = SlackWebAPI(baseURL: env["SLACK_API_URL"], botToken: bot, appToken: app)
        let outbox = SlackOutbox(store: store, api: api, logger: logger)
        let directory = SlackDirectory(api: api, logger: logger)
        let service = SlackService(host: BoxSlackHost(box: box), api: api, outbox: outbox, directory: directory, logger: logger)
        await box.register(transport: service, kind: "slack")
        let socket = app.map { _ in SocketModeClient(api: api, service: service, logger: logger) }
        logger.notice("Slack is on", metadata: ["mode": "\(socket == nil ? "http" : "socket")", "api": "\(api.baseURL)"])
        return Slack(service: service, outbox: outbox, socket: socket, api: api, directory: directory)
    }

    /// The name of the admin token a box makes for itself when `MEESEEKS_API_TOKEN` is unset.
    static let localAdminTokenName = "local-admin"

    /// For one machine without setup: the first start without `MEESEEKS_API_TOKEN` makes an admin
    /// token, stores only its hash (like any other token) and prints it once on standard output,
    /// never in the log. Later starts find the hash and print nothing.
    static func createLocalAdminToken(in store: any JobStore, logger: Logger) throws {
        do {
            if try store.tokens().contains(where: { $0.name == localAdminTokenName && !$0.revoked }) {
                logger.notice("MEESEEKS_API_TOKEN is not set: the local admin token made at the first start opens the API")
                return
            }
            let token = "msk_local_" + (0..<24).map { _ in String(format: "%02x", UInt8.random(in: 0...255)) }.joined()
            try store.saveToken(
                APIToken(name: localAdminTokenName, user: BoxAPI.bootstrapUser, hash: BoxAPI.hash(token: token), createdAt: Date().timeIntervalSince1970))
            FileHandle.standardOutput.write(
                Data("meeseeks: MEESEEKS_API_TOKEN is not set: made a local admin token, shown this once (only its hash is kept):\nexport MEESEEKS_API_TOKEN=\(token)\n".utf8))
            logger.notice("MEESEEKS_API_TOKEN is not set: made a local admin token (printed once on standard output)")
        } catch {
            throw StartupError(description: "cannot make a local admin token: \(error)")
        }
    }

    /// `HOST:PORT` into its parts.
    static func split(_ address: String, flag: String) throws -> (host: String, port: Int) {
        guard let colon = address.lastIndex(of: ":"), let port = Int(address[address.index(after: colon)...]),
            (0...65535).contains(port)
        else {
            throw StartupError(description: "\(flag) expects HOST:PORT, such as 127.0.0.1:8080; got '\(address)'")
        }
        return (String(address[..<colon]), port)
    }
}

/// Reloads the configuration on SIGHUP.
struct SignalReloader: Service {
    let reloader: ConfigReloader
    let logger: Logger

    func run() async throws {
        for await _ in await UnixSignalsSequence(trapping: .sighup).cancelOnGracefulShutdown() {
            logger.info("SIGHUP: reloading the configuration")
            // Not awaited inline: a storm of signals must not queue behind one slow load.
            Task { await reloader.reload(reason: "SIGHUP") }
        }
    }
}

/// Housekeeping: purges history past its retention.
struct Maintenance: Service {
    let store: any JobStore
    let holder: ConfigHolder
    let logger: Logger

    func run() async {
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                let retention = Double(holder.snapshot.configuration.settings.historyRetention)
                if let purged = try? store.purge(before: Date().timeIntervalSince1970 - retention), purged > 0 {
                    logger.info("purged old history", metadata: ["jobs": "\(purged)"])
                }
                try? await Task.sleep(for: .seconds(3600))
            }
        }
    }
}
