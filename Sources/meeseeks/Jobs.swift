import ArgumentParser
import Foundation
import MeeseeksClient
import MeeseeksCore

extension Meeseeks {
    struct Jobs: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List your recent jobs (everyone's with --all, for admins).")

        @OptionGroup var client: ClientOptions

        @Option(name: .long, help: "How many jobs.")
        var limit: Int = 20

        @Flag(name: .long, help: "Everyone's jobs (admins).")
        var all = false

        @Flag(name: .long, help: "Print JSON.")
        var json = false

        func run() async throws {
            let client = try client.client()
            let jobs = try await clientCall { try await client.jobs(limit: limit, all: all) }
            if json { return printJSON(jobs) }
            print(BuiltinFormatter.jobs(jobs))
        }
    }

    struct Logs: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Print a job's output.")

        @OptionGroup var client: ClientOptions

        @Flag(name: .shortAndLong, help: "Keep printing until the job ends.")
        var follow = false

        @Argument(help: "The job id.")
        var id: Int64

        func run() async throws {
            let client = try client.client()
            if follow {
                let (status, code) = try await Follow.output(of: id, with: client)
                throw ExitCode(Follow.exitStatus(status, code))
            }
            var offset = 0
            while true {
                let chunk = try await clientCall { try await client.output(id, from: offset, wait: 0) }
                if chunk.bytes.isEmpty { break }
                FileOutput.standardOutput.writeBytes(chunk.bytes)
                offset = chunk.next
            }
        }
    }

    struct Cancel: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Cancel a job (yours, or any for admins).")

        @OptionGroup var client: ClientOptions

        @Argument(help: "The job id.")
        var id: Int64

        func run() async throws {
            let client = try client.client()
            let job = try await clientCall { try await client.cancel(id) }
            print("cancelling job #\(job.id) (\(job.command)): \(job.status.rawValue)")
        }
    }

    struct Agents: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show the fleet: agents, labels, state, slots.")

        @OptionGroup var client: ClientOptions

        @Flag(name: .long, help: "Print JSON.")
        var json = false

        func run() async throws {
            let client = try client.client()
            let agents = try await clientCall { try await client.agents() }
            if json { return printJSON(agents) }
            print(BuiltinFormatter.agents(agents))
        }
    }
}

func printJSON<T: Encodable>(_ value: T) {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
    do {
        print(String(decoding: try encoder.encode(value), as: UTF8.self))
    } catch {
        FileOutput.standardError.write("meeseeks: cannot print JSON: \(error)\n")
    }
}
