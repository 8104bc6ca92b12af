import ArgumentParser
import MeeseeksAPI
import MeeseeksClient
import MeeseeksCore

extension Meeseeks {
    struct Run: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Run a command through the box and print its output.",
            discussion: """
                Arguments are given in the command's order, or as name=value. The exit status follows the \
                job: the program's own status, 124 if it timed out, 130 if cancelled, 1 otherwise.
                Example: meeseeks run restart nginx reason="disk full" -l env=stg
                """)

        @OptionGroup var client: ClientOptions

        @Option(name: [.customShort("l"), .long], help: "A label selector narrowing the agents, such as env=stg.")
        var selector: String?

        @Option(name: .long, help: "A 2FA code, for commands that need one.")
        var code: String?

        @Flag(name: .long, help: "Queue the job and print its id without waiting.")
        var detach = false

        @Argument(help: "The command.")
        var command: String

        @Argument(parsing: .allUnrecognized, help: "Its arguments: values in order, or name=value.")
        var arguments: [String] = []

        func run() async throws {
            let client = try client.client()
            var request = API.RunRequest(command: command, selector: selector, code: code)
            for argument in arguments {
                if let equals = argument.firstIndex(of: "="), !argument.hasPrefix("=") {
                    request.arguments[String(argument[..<equals])] = String(argument[argument.index(after: equals)...])
                } else {
                    request.positional.append(argument)
                }
            }
            let job = try await clientCall { try await client.run(request) }
            if detach {
                print(job.id)
                return
            }
            FileOutput.standardError.write(
                job.status == .awaitingApproval
                    ? "job #\(job.id) waits for approval (its approvers see it in 'meeseeks approvals'); waiting for it to run\n"
                    : "job #\(job.id) queued\n")
            if job.isBroadcast { throw ExitCode(try await Follow.broadcast(job.id, with: client)) }
            let (status, code) = try await Follow.output(of: job.id, with: client)
            if status != .succeeded {
                let ended = try await clientCall { try await client.job(job.id) }.job
                FileOutput.standardError.write("job #\(job.id) \(status.rawValue)\(ended.reason.map { ": \($0)" } ?? "")\n")
            }
            throw ExitCode(Follow.exitStatus(status, code))
        }
    }
}

/// Streams a job's output until it ends.
enum Follow {
    static func output(of id: Int64, with client: BoxClient, from start: Int = 0) async throws -> (JobStatus, Int?) {
        var offset = start
        while true {
            let chunk = try await clientCall { try await client.output(id, from: offset, wait: 25) }
            if !chunk.bytes.isEmpty { FileOutput.standardOutput.writeBytes(chunk.bytes) }
            offset = chunk.next
            if chunk.status.isFinal, chunk.bytes.isEmpty { return (chunk.status, chunk.exitCode) }
        }
    }

    /// Waits for a broadcast, then prints each agent's output under its name; fails if any failed.
    static func broadcast(_ id: Int64, with client: BoxClient) async throws -> Int32 {
        var detail = try await clientCall { try await client.job(id) }
        while !detail.job.status.isFinal {
            _ = try await clientCall { try await client.output(id, from: 0, wait: 5) }
            detail = try await clientCall { try await client.job(id) }
        }
        for child in detail.children {
            let header = "== \(child.agent ?? "?"): \(child.status.rawValue)\(child.exitCode.map { " (exit \($0))" } ?? "") ==\n"
            FileOutput.standardOutput.write(header)
            var offset = 0
            while true {
                let chunk = try await clientCall { try await client.output(child.id, from: offset, wait: 0) }
                if chunk.bytes.isEmpty { break }
                FileOutput.standardOutput.writeBytes(chunk.bytes)
                offset = chunk.next
            }
        }
        return detail.job.status == .succeeded ? 0 : 1
    }

    static func exitStatus(_ status: JobStatus, _ code: Int?) -> Int32 {
        switch status {
        case .succeeded: 0
        // An exit status is a byte; anything else the box reports becomes a plain failure.
        case .failed: Int32(code.flatMap { (1...255).contains($0) ? $0 : nil } ?? 1)
        case .timedOut: 124
        case .cancelled: 130
        default: 1
        }
    }
}
