import CSpawn
import Foundation
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// A program started in its own process group under a guardian that kills the group if the
/// agent dies (see `meeseeks_spawn_guarded`), stdout and stderr joined into one pipe (so their
/// order is kept), stdin from /dev/null. No shell is involved at any point.
///
/// The guardian dies with this process, not with the thread that started it: the kernel signals
/// it when that thread ends too, and it then checks whether its parent process is gone.
final class ChildProcess: Sendable {
    /// The guardian's pid, which is also the process group's id.
    let pid: pid_t
    private let readFD: Int32
    private let stopReading = Atomic<Bool>(false)

    struct SpawnError: Error, CustomStringConvertible {
        var description: String
    }

    /// Starts `argv[0]` (looked up in the job's `PATH` when it has no slash) with `environment`.
    init(argv: [String], environment: [String: String]) throws {
        guard let program = argv.first, !program.isEmpty else { throw SpawnError(description: "no program to run") }
        guard let path = Self.locate(program, in: environment["PATH"]) else {
            throw SpawnError(description: "cannot run \(program): \(String(cString: strerror(ENOENT)))")
        }
        var fds: [Int32] = [-1, -1]
        guard meeseeks_pipe_cloexec(&fds) == 0 else { throw SpawnError(description: "pipe: \(String(cString: strerror(errno)))") }
        let argvC = argv.map { strdup($0) } + [nil]
        let envC = environment.sorted { $0.key < $1.key }.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer {
            argvC.forEach { free($0) }
            envC.forEach { free($0) }
        }
        let pid = meeseeks_spawn_guarded_by(Self.guardian, path, argvC, envC, fds[1])
        close(fds[1])
        guard pid > 0 else {
            close(fds[0])
            throw SpawnError(description: "cannot run \(program): \(String(cString: strerror(-pid)))")
        }
        self.pid = pid
        self.readFD = fds[0]
    }

    /// The meeseeks-guardian program beside this executable (it is built and installed with
    /// meeseeks and mrmeeseeks). Without it the guardian is a fork of this process, which works
    /// the same and costs more: the fork copies this process's page tables and shares its memory
    /// copy-on-write while the job runs.
    static let guardian: String? = {
        var buffer = [CChar](repeating: 0, count: 4096)
        let length = readlink("/proc/self/exe", &buffer, buffer.count - 1)
        guard length > 0 else { return nil }  // no /proc: the fork it is
        let executable = String(decoding: buffer[..<length].map { UInt8(bitPattern: $0) }, as: UTF8.self)
        guard let slash = executable.lastIndex(of: "/") else { return nil }
        let candidate = String(executable[..<slash]) + "/meeseeks-guardian"
        return access(candidate, X_OK) == 0 ? candidate : nil
    }()

    /// The program's path: as given when it has a slash, else the first executable match in the
    /// PATH the job will run with (not the server's).
    static func locate(_ program: String, in path: String?) -> String? {
        if program.contains("/") { return program }
        for directory in (path ?? "/usr/local/bin:/usr/bin:/bin").split(separator: ":") {
            let candidate = "\(directory)/\(program)"
            if access(candidate, X_OK) == 0 { return candidate }
        }
        return nil
    }

    /// Reads the output and waits for the program to exit, in one blocking call (one thread per
    /// child instead of two); then kills what the program left in its group and reads what is
    /// left. Returns how the program ended.
    func supervise(_ onOutput: @escaping @Sendable ([UInt8]) -> Void) -> (code: Int?, signal: Int?) {
        let pidfd = meeseeks_pidfd_open(pid)
        guard pidfd >= 0 else {
            // An old kernel: a second thread reads while this one waits.
            let reading = DispatchSemaphore(value: 0)
            Thread.detachNewThread {
                self.readOutput(onOutput)
                reading.signal()
            }
            let exit = waitForExit()
            signalGroup(SIGKILL)
            stopReadingOutput()
            reading.wait()
            return exit
        }
        defer { close(pidfd) }
        var buffer = [UInt8](repeating: 0, count: 64 * 1024)
        var fds = [pollfd(fd: readFD, events: Int16(POLLIN), revents: 0), pollfd(fd: pidfd, events: Int16(POLLIN), revents: 0)]
        var pipeOpen = true
        while true {
            let ready = poll(&fds, 2, -1)
            if ready < 0 {
                if errno == EINTR { continue }
                break
            }
            // Output first: what the program wrote before it exited comes before its end.
            if fds[0].revents != 0 {
                let n = buffer.withUnsafeMutableBytes { read(readFD, $0.baseAddress, $0.count) }
                if n > 0 {
                    onOutput(Array(buffer[0..<n]))
                } else if n == 0 || (errno != EINTR && errno != EAGAIN) {
                    // The program closed its output but runs on: only its exit is awaited now.
                    pipeOpen = false
                    fds[0].fd = -1
                }
            }
            if fds[1].revents != 0 { break }
        }
        let exit = waitForExit()
        signalGroup(SIGKILL)
        if pipeOpen {
            stopReadingOutput()
            readOutput(onOutput)
        } else {
            close(readFD)
        }
        return exit
    }

    /// Reads output until end of file or `stopReading()`, calling `onOutput` for each chunk.
    /// Blocking: call it from a thread of its own.
    func readOutput(_ onOutput: ([UInt8]) -> Void) {
        var buffer = [UInt8](repeating: 0, count: 64 * 1024)
        var poller = pollfd(fd: readFD, events: Int16(POLLIN), revents: 0)
        while true {
            let ready = poll(&poller, 1, 100)
            if ready < 0, errno != EINTR { break }
            if ready <= 0 {
                if stopReading.load(ordering: .acquiring) { break }
                continue
            }
            let n = buffer.withUnsafeMutableBytes { read(readFD, $0.baseAddress, $0.count) }
            if n < 0, errno == EINTR || errno == EAGAIN { continue }
            if n <= 0 { break }
            onOutput(Array(buffer[0..<n]))
        }
        close(readFD)
    }

    /// Makes `readOutput` return once the pipe is idle, even if an escaped descendant holds it open.
    func stopReadingOutput() {
        stopReading.store(true, ordering: .releasing)
    }

    /// Waits for the program itself to exit. Blocking.
    func waitForExit() -> (code: Int?, signal: Int?) {
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 {
            if errno != EINTR { return (nil, nil) }
        }
        // WIFEXITED / WTERMSIG, spelled out: the macros are not imported into Swift.
        let signal = status & 0x7f
        if signal == 0 { return (Int((status >> 8) & 0xff), nil) }
        return (nil, Int(signal))
    }

    /// Sends `signal` to the whole process group.
    func signalGroup(_ signal: Int32) {
        kill(-pid, signal)
    }
}
