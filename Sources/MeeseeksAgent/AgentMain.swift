import Foundation
import Hummingbird
public import Logging
import MeeseeksConfig
import MeeseeksCore
import MeeseeksExec
import MeeseeksHTTP
import MeeseeksTwoFactor
import Metrics
public import Prometheus
import ServiceLifecycle
import UnixSignals

/// `mrmeeseeks`: connect to the box and run what it routes here, until SIGTERM (then drain).
public struct AgentMain: Sendable {
    public struct Settings: Sendable {
        /// The boxes to dial (every box of an HA cluster, or the one box).
        public var boxes: [HostPort]
        public var token: String
        public var options: Agent.Options
        public var stateDirectory: String
        public var grace: Double
        public var environment: [String: String]
        public var twoFactorSecrets: String?
        public var twoFactorCommands: [String]
        /// TLS to the box, if wanted.
        public var tls: TLS?
        /// `--config`: the folder of this agent's own commands (reloaded on SIGHUP).
        public var commandsDirectory: String?
        /// `HOST:PORT` for `/metrics`, and the registry the executable bootstrapped swift-metrics with.
        public var metrics: (host: String, port: Int, registry: PrometheusCollectorRegistry)?

        public init(
            boxes: [HostPort], token: String, options: Agent.Options, stateDirectory: String, grace: Double,
            environment: [String: String], twoFactorSecrets: String? = nil, twoFactorCommands: [String] = []
        ) {
            self.twoFactorSecrets = twoFactorSecrets
            self.twoFactorCommands = twoFactorCommands
            self.boxes = boxes
            self.token = token
            self.options = options
            self.stateDirectory = stateDirectory
            self.grace = grace
            self.environment = environment
        }
    }

    /// PEM files for TLS to the box: a CA to verify it (the system's when nil), and a client
    /// certificate and key for mutual TLS.
    public struct TLS: Sendable {
        public var ca: String?
        public var certificate: String?
        public var key: String?
        /// The name the box's certificate must carry, when it is not the host dialled.
        public var serverName: String?

        public init(ca: String?, certificate: String?, key: String?, serverName: String?) {
            self.ca = ca
            self.certificate = certificate
            self.key = key
            self.serverName = serverName
        }
    }

    let settings: Settings
    let logger: Logger

    public init(settings: Settings, logger: Logger) {
        self.settings = settings
        self.logger = logger
    }

    static func serveMetrics(on address: (host: String, port: Int, registry: PrometheusCollectorRegistry), logger: Logger) async throws {
        let registry = address.registry
        let router = Router()
        router.get("/metrics") { _, _ in
            Response(
                status: .ok, headers: [.contentType: MetricsExposition.prometheusContentType],
                body: .init(byteBuffer: ByteBuffer(string: MetricsExposition.prometheus(registry.emitToString()))))
        }
        let app = Application(
            router: router, configuration: .init(address: .hostname(address.host, port: address.port), serverName: "mrmeeseeks"),
            onServerRunning: { channel in
                logger.notice("metrics listening", metadata: ["address": "\(address.host):\(channel.localAddress?.port ?? address.port)"])
            }, logger: logger)
        try await app.run()
    }

    public struct CommandsError: Error, CustomStringConvertible {
        public var description: String
    }

    /// This agent's own commands (nil without `--config`); throws with lint's findings when the
    /// folder has errors.
    func loadOwnCommands() throws -> OwnCommands? {
        guard let directory = settings.commandsDirectory else { return nil }
        let loaded = OwnCommands.load(directory: directory)
        for finding in loaded.diagnostics where finding.severity == .warning {
            logger.warning("own command finding", metadata: ["finding": "\(finding)"])
        }
        guard let commands = loaded.commands else {
            throw CommandsError(description: loaded.diagnostics.filter { $0.severity == .error }.map { "\($0)" }.joined(separator: "; "))
        }
        return commands
    }

    public func run() async throws {
        MetricCache.gauge("meeseeks_agent_slots").record(settings.options.slots)
        var gate: TwoFactorGate?
        if let secrets = settings.twoFactorSecrets {
            gate = TwoFactorGate(secrets: secrets)
            let users = try gate!.check()
            logger.info("2FA secrets loaded", metadata: ["users": "\(users)", "commands": "\(settings.twoFactorCommands)"])
            if let problem = gate!.stateProblem() {
                logger.error("2FA jobs will be refused until the replay state can be kept", metadata: ["problem": "\(problem)"])
            }
        }
        try FileManager.default.createDirectory(
            atPath: settings.stateDirectory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        let executor = try JobExecutor(
            environment: settings.environment, scratchParent: settings.stateDirectory, gate: gate,
            twoFactorCommands: settings.twoFactorCommands)
        let ledger = try ResultLedger(directory: "\(settings.stateDirectory)/results", logger: logger)
        let own = try loadOwnCommands()
        let agent = Agent(options: settings.options, own: own ?? OwnCommands(), executor: executor, ledger: ledger, logger: logger)
        let connection = AgentConnection(
            agent: agent, boxes: settings.boxes, token: settings.token, tls: settings.tls, logger: logger)
        logger.notice(
            "mrmeeseeks starting",
            metadata: [
                "agent": "\(settings.options.id)", "box": "\(settings.boxes.map(\.description).joined(separator: ","))",
                "labels": "\(settings.options.labels)",
            ])
        let grace = settings.grace
        let logger = logger
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await connection.run() }
            if let metrics = settings.metrics {
                group.addTask { try await Self.serveMetrics(on: metrics, logger: logger) }
            }
            if settings.commandsDirectory != nil {
                group.addTask {
                    for await _ in await UnixSignalsSequence(trapping: .sighup) {
                        do {
                            if let own = try loadOwnCommands() {
                                await agent.replaceOwnCommands(own)
                                logger.notice("own commands reloaded", metadata: ["commands": "\(own.commands.count)"])
                            }
                        } catch {
                            logger.error("own commands not reloaded: the old ones stay", metadata: ["problems": "\(error)"])
                        }
                    }
                }
            }
            group.addTask {
                // The first SIGTERM or SIGINT drains; a second one forces the exit.
                var signals = await UnixSignalsSequence(trapping: .sigterm, .sigint).makeAsyncIterator()
                _ = await signals.next()
                logger.notice("draining: finishing running jobs", metadata: ["grace_seconds": "\(grace)"])
                let drained = Task {
                    await agent.drain(grace: grace)
                    // Give the box a moment to acknowledge the last results.
                    for _ in 0..<50 where await agent.hasUnacknowledgedResults { try? await Task.sleep(for: .milliseconds(100)) }
                }
                let forced = Task {
                    guard await signals.next() != nil, !Task.isCancelled else { return }
                    logger.warning("second signal: exiting now")
                    exit(1)
                }
                await drained.value
                forced.cancel()
            }
            _ = try await group.next()
            group.cancelAll()
        }
        logger.notice("mrmeeseeks stopped")
    }
}
