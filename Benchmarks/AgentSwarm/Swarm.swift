import ArgumentParser
import Foundation
import GRPCCore
import GRPCNIOTransportHTTP2
import MeeseeksGRPC
import Synchronization

/// Many simulated agents in one process, each on its own connection, speaking the real protocol
/// as `mrmeeseeks` does: register, heartbeat at the interval the box asks for, and take jobs.
/// A job is answered at once (started, then a result with one line of output) instead of being
/// run, so what is measured is the box, not process start-up.
@main
struct Swarm: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "meeseeks-swarm",
        abstract: "Connects many simulated agents to a box over gRPC (a load generator for benchmarks).",
        discussion: """
            Agent i is `PREFIX-i` with the labels swarm=PREFIX, index=i, zone=z(i mod 16) and
            rack=r(i mod 256). It prints `registered N` once every agent has registered and
            `jobs N` each second while jobs arrive. The token is MEESEEKS_AGENT_TOKEN.
            """)

    @Option(help: "The box's gRPC address, HOST:PORT (an IPv4 literal).")
    var box: String

    @Option(help: "How many agents to connect.")
    var count: Int = 1000

    @Option(help: "The index of the first agent (several processes share a fleet).")
    var first: Int = 0

    @Option(help: "Agent ids and the swarm label start with this.")
    var prefix: String = "swarm"

    @Option(help: "Job slots each agent offers.")
    var slots: Int = 4

    @Option(help: "Agents dialling at the same time while the swarm connects.")
    var dialling: Int = 200

    func validate() throws {
        guard (1...100_000).contains(count) else { throw ValidationError("--count must be between 1 and 100000") }
        guard first >= 0, first <= 1_000_000 else { throw ValidationError("--first must be between 0 and 1000000") }
        guard (1...10_000).contains(slots) else { throw ValidationError("--slots must be between 1 and 10000") }
        guard (1...10_000).contains(dialling) else { throw ValidationError("--dialling must be between 1 and 10000") }
        guard address != nil else { throw ValidationError("--box must be HOST:PORT with an IPv4 host, not '\(box)'") }
    }

    var address: (host: String, port: Int)? {
        guard let colon = box.lastIndex(of: ":"), let port = Int(box[box.index(after: colon)...]), (1...65535).contains(port)
        else { return nil }
        return (String(box[..<colon]), port)
    }

    func run() async throws {
        guard let token = ProcessInfo.processInfo.environment["MEESEEKS_AGENT_TOKEN"], !token.isEmpty else {
            throw ValidationError("set MEESEEKS_AGENT_TOKEN to the box's agent token")
        }
        guard let address else { return }
        let tally = Tally(expected: count)
        let gate = DialGate(width: dialling)
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await tally.report() }
            for index in first..<(first + count) {
                let agent = SimulatedAgent(
                    id: "\(prefix)-\(index)",
                    labels: ["swarm": prefix, "index": "\(index)", "zone": "z\(index % 16)", "rack": "r\(index % 256)"],
                    slots: slots, token: token, host: address.host, port: address.port, tally: tally, gate: gate)
                group.addTask { await agent.run() }
            }
        }
    }
}

/// Counts registrations and jobs, and prints them for the driver.
final class Tally: Sendable {
    let expected: Int
    private let counts = Mutex<(registered: Int, jobs: Int, reconnects: Int)>((0, 0, 0))

    init(expected: Int) { self.expected = expected }

    func registered() { counts.withLock { $0.registered += 1 } }
    func lost() {
        counts.withLock {
            $0.registered -= 1
            $0.reconnects += 1
        }
    }
    func job() { counts.withLock { $0.jobs += 1 } }

    func report() async {
        var announced = false
        var lastJobs = 0
        var lastReconnects = 0
        while !Task.isCancelled {
            let (registered, jobs, reconnects) = counts.withLock { ($0.registered, $0.jobs, $0.reconnects) }
            if !announced, registered >= expected {
                announced = true
                say("registered \(registered)")
            }
            if jobs != lastJobs {
                lastJobs = jobs
                say("jobs \(jobs)")
            }
            if reconnects != lastReconnects {
                lastReconnects = reconnects
                FileHandle.standardError.write(Data("reconnects \(reconnects)\n".utf8))
            }
            do { try await Task.sleep(for: .seconds(1)) } catch { return }
        }
    }
}

/// A line on stdout, unbuffered: the driver waits for it.
func say(_ line: String) {
    FileHandle.standardOutput.write(Data((line + "\n").utf8))
}

/// At most `width` agents dial at once, so the box's accept queue is not flooded at start.
actor DialGate {
    private var free: Int
    private var waiting: [CheckedContinuation<Void, Never>] = []

    init(width: Int) { free = width }

    func enter() async {
        if free > 0 {
            free -= 1
            return
        }
        await withCheckedContinuation { waiting.append($0) }
    }

    func leave() {
        if waiting.isEmpty { free += 1 } else { waiting.removeFirst().resume() }
    }
}
