import Foundation
import MeeseeksCore
import Synchronization
import Testing

@testable import MeeseeksExec

/// The runner through real processes: each job's guardian comes from the meeseeks-guardian server
/// beside the test binary (`swift build --build-tests` builds it there).
@Suite("Process runner: start, exit and cancel")
struct ProcessRunnerTests {
    func spec(_ argv: [String], timeout: Int = 60) -> ProcessSpec {
        ProcessSpec(argv: argv, environment: ["PATH": "/usr/bin:/bin"], timeout: timeout, grace: 1)
    }

    @Test("exit codes and output come back as the program gave them", arguments: [(0, JobStatus.succeeded), (3, .failed)])
    func exits(code: Int, status: JobStatus) async {
        let output = Output()
        let outcome = await ProcessRunner().run(spec(["/bin/sh", "-c", "echo hello; exit \(code)"]), onOutput: output.append)
        #expect(outcome.status == status)
        #expect(outcome.exitCode == code)
        #expect(output.text == "hello\n")
    }

    @Test("a cancel before the start: nothing runs")
    func cancelBeforeStart() async throws {
        let marker = FileManager.default.temporaryDirectory.appendingPathComponent("meeseeks-runner-\(UUID().uuidString)").path
        let runner = ProcessRunner()
        await runner.cancel(grace: 1)
        let outcome = await runner.run(spec(["/usr/bin/touch", marker]), onOutput: { _ in })
        #expect(outcome.status == .cancelled)
        #expect(!FileManager.default.fileExists(atPath: marker))
    }

    @Test("a cancel while the program is being started still stops it", arguments: 0..<20)
    func cancelDuringStart(round: Int) async {
        let runner = ProcessRunner()
        async let outcome = runner.run(spec(["/bin/sleep", "30"]), onOutput: { _ in })
        // Somewhere between before the spawn and after it, depending on the round.
        if round > 0 { try? await Task.sleep(for: .microseconds(round * 50)) }
        await runner.cancel(grace: 1)
        // A lost cancel lets the program run its 30 s and succeed. (No bound on the time taken:
        // in a parallel run, other suites' blocking calls can hold this one up for seconds.)
        #expect(await outcome.status == .cancelled)
    }
}

/// Output gathered across the supervising thread and the test.
final class Output: Sendable {
    private let bytes = Mutex<[UInt8]>([])
    var text: String { String(decoding: bytes.withLock { $0 }, as: UTF8.self) }
    func append(_ chunk: [UInt8]) { bytes.withLock { $0 += chunk } }
}
