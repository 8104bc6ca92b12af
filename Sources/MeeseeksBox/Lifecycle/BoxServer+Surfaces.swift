import Foundation
import Hummingbird
import Logging
import MeeseeksAPI
import MeeseeksConfig
import MeeseeksCore
import MeeseeksHTTP
import MeeseeksSQLite
import MeeseeksSlack
import ServiceLifecycle

extension BoxServer {
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
                    problems.append(
                        .error(
                            "unknown-handle", at: role.position, "role '\(role.name)': no Slack user has the name @\(name); use the user ID"
                        ))
                } else if resolution.ambiguous.contains(name) {
                    problems.append(
                        .error(
                            "ambiguous-handle", at: role.position,
                            "role '\(role.name)': several Slack users have the name @\(name); use the user ID"))
                }
            }
        }
        return HandleCheck(resolved: resolution.resolved, problems: problems)
    }

    /// The `@handle` members of a policy.
    static func handles(in configuration: Configuration) -> Set<String> {
        Set(
            configuration.policy.roles.values.flatMap(\.members).compactMap { member in
                if case .handle(let name) = member { return name }
                return nil
            })
    }

    /// Slack when it is configured: the outbox, the service that carries out requests, and Socket
    /// Mode with an app token.
    /// - Parameter socketIntake: where Socket Mode's envelopes go (stored before they are acknowledged).
    func startSlack(box: Orchestrator, store: any BoxStore, socketIntake: any SlackIntake) async -> Slack? {
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
        let outbox = SlackOutbox(store: store, api: api, outputs: BoxSlackHost(box: box), logger: logger)
        let directory = SlackDirectory(api: api, logger: logger)
        let service = SlackService(
            host: BoxSlackHost(box: box), api: api, outbox: outbox, ledger: store, directory: directory, logger: logger)
        await box.register(transport: service, kind: "slack")
        let socket = app.map { _ in SocketModeClient(api: api, service: socketIntake, logger: logger) }
        logger.notice("Slack is on", metadata: ["mode": "\(socket == nil ? "http" : "socket")", "api": "\(api.baseURL)"])
        return Slack(service: service, outbox: outbox, socket: socket, api: api, directory: directory)
    }

    /// At start, `@handle` members are resolved through Slack (a handle Slack does not know
    /// stops the start, as lint errors do); returns the resolver reloads use.
    func resolveHandlesAtStart(slack: Slack?, holder: ConfigHolder) async throws -> @Sendable (Configuration) async -> HandleCheck {
        let directory = slack?.directory
        let resolve: @Sendable (Configuration) async -> HandleCheck = { configuration in
            guard let directory else { return HandleCheck() }
            return Self.check(await directory.resolve(Self.handles(in: configuration)), in: configuration)
        }
        guard let directory else { return resolve }
        if Self.handles(in: configuration).isEmpty {
            // Names for the text the box shows; nothing waits for them.
            Task { _ = await directory.resolve([]) }
            return resolve
        }
        let check = await resolve(configuration)
        guard check.problems.isEmpty else { throw StartupError(description: check.problems.map(\.description).joined(separator: "\n")) }
        holder.replace(with: configuration, resolvedHandles: check.resolved, at: holder.snapshot.loadedAt)
        return resolve
    }

    /// The HTTP listener: the API, health, metrics and Slack's endpoints.
    func httpApplication(api: any APIService, slack: (any SlackIntake)?, listening: @escaping @Sendable (HostPort) -> Void = { _ in })
        throws -> some Service
    {
        let router = Router()
        APIRoutes<BasicRequestContext>(service: api).add(to: router)
        SlackRoutes<BasicRequestContext>(service: slack, signingSecret: options.environment["SLACK_SIGNING_SECRET"])
            .add(to: router)
        let address = try Self.split(options.http, flag: "--http")
        let logger = logger
        return Application(
            router: router, configuration: .init(address: .hostname(address.host, port: address.port), serverName: "meeseeks"),
            onServerRunning: { channel in
                let port = channel.localAddress?.port ?? address.port
                logger.notice("http listening", metadata: ["address": "\(address.host):\(port)"])
                listening(HostPort(host: address.host, port: port))
                FileHandle.standardOutput.write(Data("meeseeks: http listening on \(address.host):\(port)\n".utf8))
            },
            logger: logger)
    }
}

/// Job output for the files Slack attaches to long results, read from the job history.
extension BoxSlackHost: SlackJobOutputs {
    func outputLimit() -> Int { box.config.snapshot.configuration.settings.outputLimit }

    func output(ofJob id: Int64, limit: Int) throws -> [UInt8]? {
        guard try box.store.job(id) != nil else { return nil }
        return try box.store.output(id, from: 0, limit: limit)
    }
}
