import Foundation
import MeeseeksConfig
public import MeeseeksCore
import Synchronization

/// Runs execution plans on this host: the shared executor of the embedded agent and `mrmeeseeks`.
///
/// Arguments reach the program only as argv elements and environment variables; inline scripts are
/// written to a private file (mode 0700 in a 0700 directory) and run by their shebang.
public final class JobExecutor: Sendable {
    private let baseEnvironment: [String: String]
    private let scratch: String
    private let running = Mutex<[Int64: ProcessRunner]>([:])
    /// Seconds between SIGTERM and SIGKILL on timeout or cancel.
    public let grace: Int
    /// Verifies the codes of two-factor jobs here, with this host's secrets.
    let gate: (any SecondFactorCheck)?
    /// Whether two-factor jobs can run here at all (the agent says so when it registers).
    public var verifiesTwoFactor: Bool { gate != nil }
    /// Commands that need a code on this host whatever the box says (globs).
    let twoFactorCommands: [String]

    /// - Parameters:
    ///   - environment: the environment jobs inherit (the agent's own).
    ///   - scratchParent: an existing folder in which a fresh private folder for inline scripts is
    ///     made (`mkdtemp`: an unpredictable name, mode 700, never one that already existed).
    ///   - gate: where two-factor codes are verified; without one, two-factor jobs are refused.
    ///   - twoFactorCommands: globs of commands that need a code here even if the box does not ask.
    public init(
        environment: [String: String], scratchParent: String, grace: Int = 5, gate: (any SecondFactorCheck)? = nil,
        twoFactorCommands: [String] = []
    ) throws {
        self.baseEnvironment = environment
        self.scratch = try Self.makePrivateFolder(in: scratchParent)
        self.grace = grace
        self.gate = gate
        self.twoFactorCommands = twoFactorCommands
    }

    public struct ScratchError: Error, CustomStringConvertible {
        public var description: String
    }

    /// Where inline scripts are written.
    public var scratchDirectory: String { scratch }

    /// A new folder only this user can enter, under `parent`.
    static func makePrivateFolder(in parent: String) throws(ScratchError) -> String {
        var template = Array("\(parent)/meeseeks-scripts-XXXXXX".utf8CString)
        let made = template.withUnsafeMutableBufferPointer { $0.baseAddress.flatMap(mkdtemp) }
        guard let made else {
            throw ScratchError(description: "cannot make a private folder for scripts in \(parent): \(String(cString: strerror(errno)))")
        }
        let path = String(cString: made)
        var info = stat()
        guard chmod(path, 0o700) == 0, lstat(path, &info) == 0, info.st_mode & 0o7777 == 0o700, info.st_uid == getuid() else {
            rmdir(path)
            throw ScratchError(description: "the scripts folder \(path) could not be made private (mode 700, ours)")
        }
        return path
    }

    /// Removes the scripts folder (at shutdown); scripts are removed as their jobs end.
    public func removeScratch() {
        rmdir(scratch)
    }

    /// Bytes of output held per job between its program and the reporter.
    static let bridgeCapacity = 256 * 1024

    /// Jobs running now.
    public var runningCount: Int { running.withLock { $0.count } }

    /// Runs `plan` to its end, streaming output to `onOutput`.
    public func run(_ plan: ExecutionPlan, onOutput: @escaping @Sendable ([UInt8]) -> Void) async -> JobOutcome {
        let runner = ProcessRunner()
        running.withLock { $0[plan.jobID] = runner }
        defer { _ = running.withLock { $0.removeValue(forKey: plan.jobID) } }

        var argv = plan.argv
        var scriptPath: String?
        if let script = plan.script {
            do {
                scriptPath = try writeScript(script, jobID: plan.jobID, attempt: plan.attempt)
                argv = [scriptPath!]
            } catch {
                onOutput(Array("meeseeks: cannot write the script: \(error)\n".utf8))
                return JobOutcome(status: .failed, reason: "cannot write the script")
            }
        }
        defer { if let scriptPath { unlink(scriptPath) } }
        let environment = baseEnvironment.merging(plan.environment) { _, job in job }
        return await runner.run(ProcessSpec(argv: argv, environment: environment, timeout: plan.timeout, grace: grace), onOutput: onOutput)
    }

    /// Cancels a running job: SIGTERM to its process group, SIGKILL after the grace period.
    /// Returns false when the job is not running here.
    @discardableResult
    public func cancel(jobID: Int64) async -> Bool {
        guard let runner = running.withLock({ $0[jobID] }) else { return false }
        await runner.cancel(grace: grace)
        return true
    }

    private func writeScript(_ text: String, jobID: Int64, attempt: Int) throws -> String {
        let path = "\(scratch)/job-\(jobID)-\(attempt)-\(UInt32.random(in: 0...UInt32.max))"
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o700)
        guard fd >= 0 else { throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO) }
        defer { close(fd) }
        let bytes = Array(text.utf8)
        var written = 0
        while written < bytes.count {
            let n = bytes[written...].withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
            if n <= 0 { throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO) }
            written += n
        }
        return path
    }
}

extension JobExecutor {
    /// The verdict on the job's code, or nil when the job needs none. The code is checked before
    /// anything runs; it is never logged or kept.
    public func secondFactor(_ plan: ExecutionPlan) -> SecondFactorVerdict? {
        let required = plan.twoFactor || twoFactorCommands.contains { Glob.matches($0, plan.command) }
        guard required else { return nil }
        guard let gate else { return .unavailable("this agent holds no 2FA secrets (--two-factor-secrets)") }
        return gate.verify(user: plan.user, code: plan.twoFactorCode)
    }

    /// Runs `plan` and reports its start, its output (in order) and its end to `reporter`.
    public func run(_ plan: ExecutionPlan, reportingTo reporter: any JobReporter) async {
        if let verdict = secondFactor(plan), !verdict.isAccepted {
            await reporter.jobRefused(plan.jobID, attempt: plan.attempt, code: verdict.code, reason: verdict.message)
            return
        }
        // At most this much output waits between the program and the reporter; the reading
        // thread (and with it the program) waits while it is full.
        let bridge = OutputBridge(capacity: Self.bridgeCapacity)
        let limiter = OutputLimiter(limit: plan.outputLimit)
        // The program starts while its start is reported, not after: output waits in the bridge
        // and is delivered once the report is in, so the reporter still sees start, output, end.
        async let outcome: JobOutcome = {
            let outcome = await run(plan) { bridge.put(limiter.admit($0)) }
            bridge.finish()
            return outcome
        }()
        await reporter.jobStarted(plan.jobID, attempt: plan.attempt)
        while let chunk = await bridge.next() { await reporter.jobOutput(plan.jobID, attempt: plan.attempt, chunk) }
        let ended = await outcome
        if let marker = limiter.marker { await reporter.jobOutput(plan.jobID, attempt: plan.attempt, marker) }
        await reporter.jobFinished(plan.jobID, attempt: plan.attempt, ended)
    }
}
