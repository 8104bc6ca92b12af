import Foundation
import MeeseeksConfig
public import MeeseeksCore
import Synchronization

/// What to run: the argv and environment, already built from the command and its arguments.
public struct ProcessSpec: Sendable, Hashable {
    public var argv: [String]
    public var environment: [String: String]
    /// Seconds before the group gets SIGTERM.
    public var timeout: Int
    /// Seconds between SIGTERM and SIGKILL.
    public var grace: Int

    public init(argv: [String], environment: [String: String], timeout: Int, grace: Int = 5) {
        self.argv = argv
        self.environment = environment
        self.timeout = timeout
        self.grace = grace
    }
}

/// Runs one process to its end: streams output, enforces the timeout, honours cancel, and leaves
/// nothing of the job behind (its process group is killed when the program exits).
public final class ProcessRunner: Sendable {
    private let state = ProcessRunnerState()

    public init() {}

    /// Runs `spec`; `onOutput` receives stdout and stderr as they arrive, in order.
    public func run(_ spec: ProcessSpec, onOutput: @escaping @Sendable ([UInt8]) -> Void) async -> JobOutcome {
        let state = state
        let exited = ExitWaiter()
        if state.cancelRequested != nil {
            return JobOutcome(status: .cancelled, reason: "cancelled before it started")
        }
        // Blocking reads and waits belong on a thread of their own, not the cooperative pool.
        // The start blocks too (the guardian server's answer, the program's exec), so it is there.
        let spawned: Result<ChildProcess, ChildProcess.SpawnError> = await withCheckedContinuation { continuation in
            Thread.detachNewThread {
                let child: ChildProcess
                do {
                    child = try ChildProcess(argv: spec.argv, environment: spec.environment)
                } catch {
                    continuation.resume(returning: .failure(error as? ChildProcess.SpawnError ?? .init(description: "\(error)")))
                    return
                }
                state.started(child)
                continuation.resume(returning: .success(child))
                exited.deliver(child.supervise(onOutput))
            }
        }
        let child: ChildProcess
        switch spawned {
        case .failure(let error):
            onOutput(Array("meeseeks: \(error)\n".utf8))
            return JobOutcome(status: .failed, exitCode: 127, reason: "\(error)")
        case .success(let started):
            child = started
        }
        let exit: (code: Int?, signal: Int?) = await withTaskGroup(of: Void.self) { group in
            group.addTask {
                try? await Task.sleep(for: .seconds(spec.timeout))
                if !Task.isCancelled { await state.terminate(child, grace: spec.grace, because: .timedOut) }
            }
            // A cancel that came while the program was being started, before it could be signalled.
            if let grace = state.cancelRequested {
                group.addTask { await state.terminate(child, grace: grace, because: .cancelled) }
            }
            let result = await exited.wait()
            group.cancelAll()
            return result
        }
        defer { state.ended(child) }

        switch state.reason(for: child) {
        case .timedOut:
            return JobOutcome(
                status: .timedOut, exitCode: exit.code, signal: exit.signal,
                reason: "timed out after \(DurationText.format(spec.timeout))")
        case .cancelled:
            return JobOutcome(status: .cancelled, exitCode: exit.code, signal: exit.signal, reason: "cancelled")
        case nil:
            if let code = exit.code {
                return JobOutcome(status: code == 0 ? .succeeded : .failed, exitCode: code, reason: code == 0 ? nil : "exit status \(code)")
            }
            return JobOutcome(status: .failed, signal: exit.signal, reason: "killed by signal \(exit.signal ?? 0)")
        }
    }

    /// Cancels every process this runner is running (used by job cancel: one runner per job),
    /// and the one it is starting, if any, as soon as it has started.
    public func cancel(grace: Int = 5) async {
        for child in state.cancelAll(grace: grace) {
            await state.terminate(child, grace: grace, because: .cancelled)
        }
    }
}

/// Why a process was stopped early.
enum StopReason: Sendable {
    case timedOut, cancelled
}

/// Children of a runner and why they were stopped, and whether a cancel came (with its grace),
/// behind a lock.
final class ProcessRunnerState: Sendable {
    private let lock = Mutex<(children: [pid_t: (ChildProcess, StopReason?)], cancelled: Int?)>(([:], nil))

    func started(_ child: ChildProcess) { lock.withLock { $0.children[child.pid] = (child, nil) } }
    func ended(_ child: ChildProcess) { lock.withLock { $0.children[child.pid] = nil } }
    func reason(for child: ChildProcess) -> StopReason? { lock.withLock { $0.children[child.pid]?.1 } }
    /// The grace of a cancel asked for, if one was.
    var cancelRequested: Int? { lock.withLock { $0.cancelled } }

    /// Records the cancel and returns the children running now.
    func cancelAll(grace: Int) -> [ChildProcess] {
        lock.withLock { state in
            state.cancelled = grace
            return state.children.values.map(\.0)
        }
    }

    /// SIGTERM to the group, then SIGKILL after `grace` seconds if the program is still there.
    func terminate(_ child: ChildProcess, grace: Int, because reason: StopReason) async {
        let first = lock.withLock { state -> Bool in
            guard let entry = state.children[child.pid], entry.1 == nil else { return false }
            state.children[child.pid] = (child, reason)
            return true
        }
        guard first else { return }
        child.signalGroup(SIGTERM)
        try? await Task.sleep(for: .seconds(grace))
        if lock.withLock({ $0.children[child.pid] != nil }) { child.signalGroup(SIGKILL) }
    }
}

/// How a child ended, handed from its supervising thread to the task awaiting it.
final class ExitWaiter: Sendable {
    private let state = Mutex<(exit: (code: Int?, signal: Int?)?, waiter: CheckedContinuation<(code: Int?, signal: Int?), Never>?)>(
        (nil, nil))

    func deliver(_ exit: (code: Int?, signal: Int?)) {
        state.withLock { state in
            if let waiter = state.waiter {
                state.waiter = nil
                waiter.resume(returning: exit)
            } else {
                state.exit = exit
            }
        }
    }

    func wait() async -> (code: Int?, signal: Int?) {
        await withCheckedContinuation { continuation in
            state.withLock { state in
                if let exit = state.exit {
                    continuation.resume(returning: exit)
                } else {
                    state.waiter = continuation
                }
            }
        }
    }
}
