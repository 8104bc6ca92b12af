import ArgumentParser
import Foundation
import Logging
import MeeseeksAgent
import MeeseeksConfig
import MeeseeksCore
import MeeseeksLabels
import MeeseeksLogging
import Metrics
import Prometheus

/// `mrmeeseeks`: the agent. It dials the box, registers its labels and catalog, and runs the jobs
/// routed to it — argv only, in their own process group, never through a shell.
@main
struct MrMeeseeks: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mrmeeseeks",
        abstract: "A Meeseeks Box agent: runs the jobs the box routes to it.",
        discussion: """
            The token comes from MEESEEKS_AGENT_TOKEN (the same value as on the box).
            Example: mrmeeseeks --box box.internal:9090 --labels env=prd,role=web --commands 'restart,deploy-*' --slots 4
            With --config DIR the agent brings its own commands (DIR/commands.d/*.yaml, the box's schema): the box
            offers them, and sends only their argument values; the agent checks those and builds what runs itself.
            Without --commands such an agent runs only its own commands. SIGHUP reloads them (a broken set is
            logged and the old one kept). `mrmeeseeks lint --config DIR` checks such a folder (see `mrmeeseeks lint --help`).
            SIGTERM stops taking jobs, lets running ones finish (--grace), delivers their results, and exits.
            """,
        version: BuildVersion.current)

    /// `mrmeeseeks lint …` checks a folder; anything else starts the agent. (Not an
    /// ArgumentParser subcommand: the agent's required options would be demanded of lint too.)
    static func main() async {
        let arguments = Array(CommandLine.arguments.dropFirst())
        if arguments.first == "lint" {
            LintCommands.main(Array(arguments.dropFirst()))
        } else {
            await main(arguments)
        }
    }

    @Option(
        name: .long,
        help:
            "The box's gRPC address, HOST:PORT; in HA, every box's, comma-separated (a standby names the leader and the agent moves there)."
    )
    var box: String

    @Option(name: .long, help: "This agent's labels, k=v,k=v (Kubernetes label rules).")
    var labels: String = ""

    @Option(name: .long, help: "Globs of the box's commands this agent accepts, comma-separated (default: all; none with --config).")
    var commands: String?

    @Option(name: .long, help: "A folder whose commands.d/*.yaml are this agent's own commands (check it with `mrmeeseeks lint --config`).")
    var config: String?

    @Option(name: .long, help: "Jobs run at once.")
    var slots: Int = 1

    @Option(name: .long, help: "This agent's id, unique in the fleet (default: the hostname).")
    var id: String?

    @Option(name: .long, help: "Where undelivered results are kept (default $XDG_STATE_HOME/mrmeeseeks or ~/.local/state/mrmeeseeks).")
    var state: String?

    @Option(name: .customLong("two-factor-secrets"), help: "This agent's 2FA secrets file (mode 600; see `meeseeks 2fa enroll`).")
    var twoFactorSecrets: String?

    @Option(
        name: .customLong("two-factor-commands"),
        help: "Globs of commands that need a valid code here whatever the box says, comma-separated.")
    var twoFactorCommands: String = ""

    @Option(name: .long, help: "Seconds running jobs may take to finish on SIGTERM before they are cancelled.")
    var grace: Double = 30

    @Flag(name: .long, help: "Connect to the box over TLS (verified against --tls-ca, or the system's CAs).")
    var tls = false

    @Option(name: .customLong("tls-ca"), help: "PEM CA that the box's certificate must chain to; implies --tls.")
    var tlsCA: String?

    @Option(name: .customLong("tls-cert"), help: "PEM client certificate, for a box that requires mutual TLS; implies --tls.")
    var tlsCert: String?

    @Option(name: .customLong("tls-key"), help: "PEM private key of --tls-cert.")
    var tlsKey: String?

    @Option(name: .customLong("tls-server-name"), help: "The name the box's certificate carries, if not the --box host.")
    var tlsServerName: String?

    @Option(name: .long, help: "Serve Prometheus metrics at HOST:PORT/metrics (jobs running, slots, reconnects).")
    var metrics: String?

    @Option(name: .customLong("log-format"), help: "Log lines as logfmt or JSON, on stderr.")
    var logFormat: LogFormat = .logfmt

    @Option(name: .customLong("log-level"), help: "trace, debug, info, notice, warning, error or critical.")
    var logLevel: String = "info"

    var parsedLabels: LabelSet {
        get throws {
            do {
                return try LabelSet.parse(labels)
            } catch {
                throw ValidationError("--labels: \(error)")
            }
        }
    }

    /// The boxes to dial, in order: a standby names the leader, and the agent moves there.
    var parsedBoxes: [HostPort] {
        get throws {
            do {
                return try HostPort.list(box)
            } catch {
                throw ValidationError("--box \(error)")
            }
        }
    }

    func validate() throws {
        if let metrics { _ = try metricsAddress(metrics) }
        _ = try parsedLabels
        _ = try parsedBoxes
        guard slots >= 1 else { throw ValidationError("--slots must be at least 1") }
        guard grace >= 0 else { throw ValidationError("--grace must not be negative") }
        if let id, id.isEmpty { throw ValidationError("--id must not be empty") }
        if (tlsCert == nil) != (tlsKey == nil) { throw ValidationError("--tls-cert and --tls-key go together") }
        for path in [tlsCA, tlsCert, tlsKey].compactMap({ $0 }) where !FileManager.default.isReadableFile(atPath: path) {
            throw ValidationError("cannot read \(path)")
        }
        if let config {
            let loaded = OwnCommands.load(directory: config)
            guard loaded.commands != nil else {
                let shown = loaded.diagnostics.filter { $0.severity == .error }.prefix(20).map { "\($0)" }.joined(separator: "\n")
                throw ValidationError("--config \(config) has errors (see `mrmeeseeks lint --config \(config)`):\n\(shown)")
            }
        }
        if !twoFactorCommands.isEmpty, twoFactorSecrets == nil {
            throw ValidationError("--two-factor-commands needs --two-factor-secrets: without secrets no code can be verified")
        }
        guard ProcessInfo.processInfo.environment["MEESEEKS_AGENT_TOKEN"].map({ !$0.isEmpty }) == true else {
            throw ValidationError("set MEESEEKS_AGENT_TOKEN to the box's agent token")
        }
    }

    func metricsAddress(_ text: String) throws -> HostPort {
        do {
            return try HostPort(parsing: text, allowAnyPort: true)
        } catch {
            throw ValidationError("--metrics \(error)")
        }
    }

    func run() async throws {
        var exposition: (String, Int, PrometheusCollectorRegistry)?
        if let metrics {
            let registry = PrometheusCollectorRegistry()
            MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: registry))
            let address = try metricsAddress(metrics)
            exposition = (address.host, address.port, registry)
        }
        let logger = StructuredLogHandler.bootstrap(
            label: "mrmeeseeks", format: logFormat, level: Logger.Level(rawValue: logLevel) ?? .info)
        let environment = ProcessInfo.processInfo.environment
        let hostname = ProcessInfo.processInfo.hostName
        let stateDirectory =
            state
            ?? environment["XDG_STATE_HOME"].map { "\($0)/mrmeeseeks" }
            ?? "\(NSHomeDirectory())/.local/state/mrmeeseeks"
        var jobEnvironment = environment
        jobEnvironment["MEESEEKS_AGENT_TOKEN"] = nil  // jobs never see the agent's credential
        var options = Agent.Options(
            id: id ?? hostname, hostname: hostname, labels: try parsedLabels.values,
            commands: (commands ?? "*").split(separator: ",").map { String($0).trimmingCharacters(in: .whitespaces) }.filter {
                !$0.isEmpty
            },
            slots: slots, version: BuildVersion.current)
        options.ownCommandsOnly = config != nil && commands == nil
        options.verifiesTwoFactor = twoFactorSecrets != nil
        let settings = AgentMain.Settings(
            boxes: try parsedBoxes, token: environment["MEESEEKS_AGENT_TOKEN"] ?? "", options: options,
            stateDirectory: "\(stateDirectory)/\(options.id)", grace: grace, environment: jobEnvironment,
            twoFactorSecrets: twoFactorSecrets,
            twoFactorCommands: twoFactorCommands.split(separator: ",").map { String($0).trimmingCharacters(in: .whitespaces) }.filter {
                !$0.isEmpty
            })
        var withMetrics = settings
        withMetrics.metrics = exposition
        withMetrics.commandsDirectory = config
        if tls || tlsCA != nil || tlsCert != nil {
            withMetrics.tls = AgentMain.TLS(ca: tlsCA, certificate: tlsCert, key: tlsKey, serverName: tlsServerName)
        }
        try await AgentMain(settings: withMetrics, logger: logger).run()
    }
}

extension LogFormat: ExpressibleByArgument {}
