import ArgumentParser
import Foundation
import MeeseeksTwoFactor

extension Meeseeks {
    struct TwoFactor: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "2fa",
            abstract: "Enroll users for 2FA in agents' secrets files.",
            discussion: """
                Secrets live with the agents that verify codes (mrmeeseeks --two-factor-secrets FILE, or \
                meeseeks serve --two-factor-secrets FILE for the embedded agent), never in the box. Run \
                this on the agent's host as the agent's user; give several --secrets to enroll one user \
                on several agents with the same secret.
                """,
            subcommands: [Enroll.self, Revoke.self, List.self])
    }
}

/// One or more secrets files.
struct SecretsFiles: ParsableArguments {
    @Option(name: .customLong("secrets"), help: "An agent's secrets file (created mode 600 if missing); repeatable.")
    var paths: [String]

    func validate() throws {
        if paths.isEmpty { throw ValidationError("give at least one --secrets FILE") }
    }

    func load(_ path: String, create: Bool) throws -> SecretsFile {
        if create, !FileManager.default.fileExists(atPath: path) { return SecretsFile(path: path) }
        do {
            return try SecretsFile.load(path)
        } catch {
            throw ValidationError(error.description)
        }
    }
}

extension TOTP.Algorithm: ExpressibleByArgument {}

extension Meeseeks.TwoFactor {
    struct Enroll: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Create a secret for a user and print the otpauth:// URI for their authenticator app.",
            discussion: """
                Show the URI and the QR code to the user only: they are the secret. The QR code is printed when the \
                output is a terminal (or with --qr), after the URI; scan it with the authenticator app.
                """)

        @Argument(help: "The Slack user ID, such as U01SRE0001.")
        var user: String

        @OptionGroup var secrets: SecretsFiles

        @Option(help: "HMAC algorithm.")
        var algorithm: TOTP.Algorithm = .sha1

        @Option(help: "Digits per code: 6 or 8.")
        var digits: Int = 6

        @Option(help: "The name the authenticator app shows.")
        var issuer: String = "Meeseeks Box"

        @Flag(help: "Replace an existing secret for this user.")
        var force = false

        @Flag(inversion: .prefixedNo, help: "Print the URI as a QR code too (default: when the output is a terminal).")
        var qr: Bool?

        func validate() throws {
            guard digits == 6 || digits == 8 else { throw ValidationError("--digits must be 6 or 8") }
            guard !user.isEmpty, user.allSatisfy({ $0.isLetter || $0.isNumber || "_-.".contains($0) }) else {
                throw ValidationError("'\(user)' is not a Slack user ID (such as U01SRE0001)")
            }
        }

        func run() throws {
            var bytes = [UInt8](repeating: 0, count: 20)
            for i in bytes.indices { bytes[i] = UInt8.random(in: 0...255) }
            let totp = TOTP(secret: bytes, algorithm: algorithm, digits: digits)
            for path in secrets.paths {
                var file = try secrets.load(path, create: true)
                if file.entries[user] != nil, !force {
                    throw ValidationError("\(user) is already enrolled in \(path); use --force to replace the secret")
                }
                file.entries[user] = totp
                try file.save()
                FileOutput.standardError.write("enrolled \(user) in \(path)\n")
            }
            let uri = totp.uri(account: user, issuer: issuer)
            print(uri)
            if qr ?? (isatty(STDOUT_FILENO) == 1) {
                do {
                    print(try QRCode(Array(uri.utf8)).terminalText())
                } catch {
                    FileOutput.standardError.write("the URI is too long for a QR code here; type it into the app instead\n")
                }
            }
        }
    }

    struct Revoke: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Remove a user's secret.")

        @Argument(help: "The Slack user ID.")
        var user: String

        @OptionGroup var secrets: SecretsFiles

        func run() throws {
            var removed = false
            for path in secrets.paths {
                var file = try secrets.load(path, create: false)
                if file.entries.removeValue(forKey: user) != nil {
                    try file.save()
                    removed = true
                    FileOutput.standardError.write("revoked \(user) in \(path)\n")
                }
            }
            if !removed {
                FileOutput.standardError.write("meeseeks: \(user) is not enrolled in \(secrets.paths.joined(separator: ", "))\n")
                throw ExitCode(1)
            }
        }
    }

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List enrolled users (never their secrets).")

        @OptionGroup var secrets: SecretsFiles

        func run() throws {
            for path in secrets.paths {
                let file = try secrets.load(path, create: false)
                for (user, totp) in file.entries.sorted(by: { $0.key < $1.key }) {
                    print("\(user)\t\(totp.algorithm.rawValue)\t\(totp.digits) digits\t\(path)")
                }
            }
        }
    }
}
