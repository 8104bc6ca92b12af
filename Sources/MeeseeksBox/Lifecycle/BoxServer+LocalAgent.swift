import Foundation
import Logging
import MeeseeksConfig
import MeeseeksCore
import MeeseeksExec
import MeeseeksTwoFactor

extension BoxServer {
    /// The embedded agent: the box's own executor, with the embedded 2FA secrets if any.
    func startLocalAgent(for box: Orchestrator, databasePath: String?) async throws {
        // Jobs never see the box's credentials, nor the key that seals its secrets.
        let jobEnvironment = options.environment.filter { key, _ in
            !(key.hasPrefix("SLACK_") || Self.boxSecrets.contains(key))
        }
        let secrets =
            options.twoFactorSecrets
            ?? configuration.settings.paths.twoFactorSecrets.map { ConfigLoader.resolve($0, in: options.configDirectory) }
        var gate: TwoFactorGate?
        if let secrets {
            let opened = TwoFactorGate(secrets: secrets)
            do {
                let users = try opened.check()
                logger.info("2FA secrets loaded for the embedded agent", metadata: ["users": "\(users)"])
            } catch {
                throw StartupError(description: error.description)
            }
            if let problem = opened.stateProblem() {
                logger.error("2FA jobs will be refused until the replay state can be kept", metadata: ["problem": "\(problem)"])
            }
            gate = opened
        } else if case let needing = configuration.commands.filter(\.twoFactor).map(\.name), !needing.isEmpty {
            logger.warning(
                "two-factor commands will run only on agents with 2FA secrets: the embedded agent holds none",
                metadata: [
                    "commands": "\(needing.joined(separator: ","))", "fix": "serve --two-factor-secrets FILE, or paths.two_factor_secrets",
                ])
        }
        // Scripts go to a fresh private folder in the user's runtime directory (or the
        // database's folder): never a predictable name in a shared /tmp.
        let runtime =
            options.environment["XDG_RUNTIME_DIR"].flatMap { $0.isEmpty ? nil : $0 }
            ?? databasePath.map { ($0 as NSString).deletingLastPathComponent } ?? options.configDirectory
        let executor: JobExecutor
        do {
            executor = try JobExecutor(environment: jobEnvironment, scratchParent: runtime.isEmpty ? "." : runtime, gate: gate)
        } catch {
            throw StartupError(description: "\(error)")
        }
        let agent = LocalAgent(executor: executor, orchestrator: box, slots: options.localSlots)
        await box.connectLocal(agent.record, link: agent)
    }

    /// The box's own secrets, kept from every job's environment.
    static let boxSecrets: Set<String> = ["MEESEEKS_AGENT_TOKEN", "MEESEEKS_API_TOKEN", "MEESEEKS_SECRET_KEY", "MEESEEKS_DB", "PGPASSWORD"]
}
