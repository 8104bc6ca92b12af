import ArgumentParser
import Foundation
import MeeseeksClient
import MeeseeksConfig
import MeeseeksCore

extension Meeseeks {
    struct Audit: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Show the audit trail (admins): every decision with who, what, where, when and why.")

        @OptionGroup var client: ClientOptions

        @Option(name: .long, help: "Only this user's entries.")
        var user: String?

        @Option(name: .long, help: "Only this command's entries.")
        var command: String?

        @Option(name: .long, help: "Only this outcome (allowed, denied, passed, failed, locked, succeeded, …).")
        var outcome: String?

        @Option(name: .long, help: "Only entries this recent: a duration such as 1h or 7d.")
        var since: String?

        @Option(name: .long, help: "How many entries at most.")
        var limit: Int = 100

        @Flag(name: .long, help: "Print JSON.")
        var json = false

        func run() async throws {
            let client = try client.client()
            var query = AuditQuery(user: user, command: command, outcome: outcome, limit: limit)
            if let since {
                guard let seconds = DurationText.seconds(since) else {
                    throw ValidationError("--since expects a duration such as 1h or 7d")
                }
                query.since = Date().timeIntervalSince1970 - Double(seconds)
            }
            let entries = try await clientCall { try await client.audit(query) }
            if json { return printJSON(entries) }
            print(BuiltinFormatter.audit(entries))
        }
    }
}
