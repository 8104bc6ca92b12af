import ArgumentParser
import Foundation
import Logging
import MeeseeksBox
import MeeseeksConfig
import MeeseeksCore
import MeeseeksLogging
import Metrics
import Prometheus

extension Meeseeks {
    struct Serve: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Run the box.",
            discussion: """
                Reads DIR/meeseeks.yaml (optional), DIR/commands.d and DIR/policies.d. Without other agents an \
                embedded agent (labels agent=local) runs jobs on this machine.

                Environment: SLACK_SIGNING_SECRET, SLACK_BOT_TOKEN (HTTP mode), SLACK_APP_TOKEN (Socket Mode), \
                SLACK_API_URL, MEESEEKS_AGENT_TOKEN (agents), MEESEEKS_API_TOKEN (an admin token for the API).

                Signals: SIGHUP reloads the configuration (so does a file change, with --watch); SIGTERM drains \
                and stops, a second SIGTERM at once.
                """)

        @Option(name: .long, help: "The configuration directory.")
        var config: String = "."

        @Option(name: .long, help: "Address of the HTTP listener (Slack, API, metrics); port 0 picks a free one.")
        var http: String = "127.0.0.1:8080"

        @Option(name: .long, help: "Address of the gRPC listener for agents; port 0 picks a free one.")
        var grpc: String = "127.0.0.1:9090"

        @Option(
            name: .long,
            help: ArgumentHelp(
                "The database: a path or sqlite:PATH (default DIR/meeseeks.db), or postgres://USER@HOST:PORT/DB (default $MEESEEKS_DB) for several boxes (HA).",
                discussion:
                    "PostgreSQL's password comes from the URL or PGPASSWORD; ?sslmode=require encrypts the connection, ?sslmode=verify-full also verifies the server."
            ))
        var db: String?

        @Option(name: .long, help: "In HA: this box's name in the cluster (default: hostname and process id).")
        var member: String?

        @Option(
            name: .customLong("grpc-advertise"),
            help: "In HA: the HOST:PORT agents are sent to when this box leads (default: --grpc's address).")
        var grpcAdvertise: String?

        @Option(
            name: .long,
            help: "In HA: seconds the leader's lease lasts without renewal (renewed every second); a standby takes over after that.")
        var lease: Double = 3

        @Flag(name: .customLong("no-local-agent"), help: "Do not start the embedded agent.")
        var noLocalAgent = false

        @Option(name: .customLong("local-slots"), help: "Jobs the embedded agent runs at once.")
        var localSlots: Int = 4

        @Option(
            name: .customLong("two-factor-secrets"), help: "The embedded agent's 2FA secrets file (mode 600; see `meeseeks 2fa enroll`).")
        var twoFactorSecrets: String?

        @Option(name: .long, help: "Seconds running jobs get to finish on SIGTERM before they are cancelled.")
        var grace: Double = 30

        @Flag(name: .long, help: "Also reload when files in commands.d, policies.d or meeseeks.yaml change (checked every second).")
        var watch = false

        @Option(name: .customLong("grpc-tls-cert"), help: "PEM certificate (chain) for the agents' listener; enables TLS.")
        var grpcTLSCert: String?

        @Option(name: .customLong("grpc-tls-key"), help: "PEM private key of --grpc-tls-cert.")
        var grpcTLSKey: String?

        @Option(name: .customLong("grpc-tls-client-ca"), help: "PEM CA that agents' client certificates must chain to (mutual TLS).")
        var grpcTLSClientCA: String?

        @OptionGroup var logging: LoggingOptions

        func validate() throws {
            guard localSlots >= 1 else { throw ValidationError("--local-slots must be at least 1") }
            guard lease.isFinite, (2...60).contains(lease) else { throw ValidationError("--lease must be between 2 and 60 seconds") }
            guard grace.isFinite, grace >= 0 else { throw ValidationError("--grace must be a number of seconds, 0 or more") }
            if let grpcAdvertise {
                do {
                    _ = try HostPort(parsing: grpcAdvertise)
                } catch {
                    throw ValidationError("--grpc-advertise \(error)")
                }
            }
            if (grpcTLSCert == nil) != (grpcTLSKey == nil) {
                throw ValidationError("--grpc-tls-cert and --grpc-tls-key go together")
            }
            if grpcTLSClientCA != nil, grpcTLSCert == nil {
                throw ValidationError("--grpc-tls-client-ca needs --grpc-tls-cert and --grpc-tls-key")
            }
            for path in [grpcTLSCert, grpcTLSKey, grpcTLSClientCA].compactMap({ $0 })
            where !FileManager.default.isReadableFile(atPath: path) {
                throw ValidationError("cannot read \(path)")
            }
        }

        func run() async throws {
            let logger = logging.bootstrap(label: "meeseeks")
            let registry = PrometheusCollectorRegistry()
            var factory = PrometheusMetricsFactory(registry: registry)
            factory.durationHistogramBuckets[BoxMetrics.planDuration] = BoxMetrics.planDurationBuckets
            MetricsSystem.bootstrap(factory)

            let result = ConfigLoader.load(directory: config)
            for diagnostic in result.diagnostics { FileOutput.standardError.write("\(diagnostic)\n") }
            guard let configuration = result.configuration else {
                FileOutput.standardError.write("meeseeks: the configuration has errors; fix them and start again\n")
                throw ExitCode(1)
            }
            var options = BoxServer.Options(
                configDirectory: config, http: http, grpc: grpc, database: db, localAgent: !noLocalAgent,
                localSlots: localSlots, environment: ProcessInfo.processInfo.environment, twoFactorSecrets: twoFactorSecrets)
            options.grace = grace
            options.watch = watch
            options.memberID = member
            options.grpcAdvertise = grpcAdvertise
            options.leaseSeconds = lease
            if let grpcTLSCert, let grpcTLSKey {
                options.grpcTLS = BoxServer.TLSFiles(certificate: grpcTLSCert, key: grpcTLSKey, clientCA: grpcTLSClientCA)
            }
            do {
                try await BoxServer(options: options, configuration: configuration, logger: logger, registry: registry).run()
            } catch let error as BoxServer.StartupError {
                FileOutput.standardError.write("meeseeks: \(error)\n")
                throw ExitCode(1)
            }
        }
    }
}

/// `--log-format` and `--log-level`, shared by the commands that run services.
struct LoggingOptions: ParsableArguments {
    @Option(name: .customLong("log-format"), help: "Log lines as logfmt or JSON, on stderr.")
    var format: LogFormat = .logfmt

    @Option(name: .customLong("log-level"), help: "trace, debug, info, notice, warning, error or critical.")
    var level: Logger.Level = .info

    func bootstrap(label: String) -> Logger {
        StructuredLogHandler.bootstrap(label: label, format: format, level: level)
    }
}

extension LogFormat: ExpressibleByArgument {}
// swift-log's level read from the command line: neither module will declare it, and only this
// executable parses it.
// swift-format-ignore: AvoidRetroactiveConformances
extension Logger.Level: @retroactive ExpressibleByArgument {}
