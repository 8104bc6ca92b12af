import ArgumentParser
import Foundation
import MeeseeksAPI
import MeeseeksClient
import MeeseeksConfig
import MeeseeksCore

extension Meeseeks {
    struct Approvals: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List the jobs waiting for your approval.",
            discussion:
                "Jobs of commands with 'approval' wait until people of the named roles approve them; a requester never approves their own.")

        @OptionGroup var client: ClientOptions

        @Flag(name: .long, help: "Print JSON.")
        var json = false

        func run() async throws {
            let client = try client.client()
            let approvals = try await clientCall { try await client.approvals() }
            if json { return printJSON(approvals) }
            print(ApprovalText.list(approvals, now: Date().timeIntervalSince1970))
        }
    }

    struct Approve: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Approve a job waiting for your approval.")

        @OptionGroup var client: ClientOptions

        @Argument(help: "The job id (see 'meeseeks approvals').")
        var id: Int64

        func run() async throws {
            let client = try client.client()
            let approval = try await clientCall { try await client.decide(id, approve: true, reason: nil) }
            print(ApprovalText.decided(approval, approved: true))
        }
    }

    struct Deny: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Deny a job waiting for your approval, saying why.")

        @OptionGroup var client: ClientOptions

        @Argument(help: "The job id (see 'meeseeks approvals').")
        var id: Int64

        @Option(name: .long, help: "Why; the requester is told.")
        var reason: String

        func validate() throws {
            guard !reason.trimmingSpaces.isEmpty else { throw ValidationError("--reason must say why; the requester is told") }
        }

        func run() async throws {
            let client = try client.client()
            let approval = try await clientCall { try await client.decide(id, approve: false, reason: reason) }
            print(ApprovalText.decided(approval, approved: false))
        }
    }
}

/// Jobs awaiting approval as a terminal shows them (`meeseeks approvals`, `meeseeks chat`).
enum ApprovalText {
    static func list(_ approvals: [API.Approval], now: Double) -> String {
        guard !approvals.isEmpty else { return "Nothing waits for your approval." }
        return approvals.map { item in
            let job = item.job
            let arguments = job.arguments.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
            let approved = item.decisions.filter(\.approved).map(\.approver)
            let left = DurationText.format(max(1, Int(min(max(0, item.expiresAt - now), 1e9))))
            return "#\(job.id)  \(job.command)\(arguments.isEmpty ? "" : " " + arguments)  requested by \(job.requester)"
                + "\n    needs \(item.need.summary)\(approved.isEmpty ? "" : "; approved by \(approved.joined(separator: ", "))"); expires in \(left)"
                + "\n    meeseeks approve \(job.id)  |  meeseeks deny \(job.id) --reason TEXT"
        }.joined(separator: "\n")
    }

    static func decided(_ approval: API.Approval, approved: Bool) -> String {
        let missing = max(0, approval.need.count - approval.decisions.filter(\.approved).count)
        return ApprovalRules.afterDecision(approval.job, approved: approved, missing: missing)
    }
}
