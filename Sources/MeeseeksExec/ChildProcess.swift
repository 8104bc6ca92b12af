import CSpawn
import Foundation
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// A program started with `posix_spawn` in its own process group, stdout and stderr joined into
/// one pipe (so their order is kept), stdin from /dev/null. No shell is involved at any point.
final class ChildProcess: Sendable {
    let pid: pid_t
    private let readFD: Int32
    private let stopReading = Atomic<Bool>(false)

    struct SpawnError: Error, CustomStringConvertible {
        var description: String
    }

    /// Starts `argv[0]` (looked up in `PATH` when it has no slash) with `environment`.
    init(argv: [String], environment: [String: String]) throws {
        guard let program = argv.first, !program.isEmpty else { throw SpawnError(description: "no program to run") }
        var fds: [Int32] = [-1, -1]
        guard meeseeks_pipe_cloexec(&fds) == 0 else { throw SpawnError(description: "pipe: \(String(cString: strerror(errno)))") }

        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_adddup2(&actions, fds[1], 1)
        posix_spawn_file_actions_adddup2(&actions, fds[1], 2)
        // Nothing of the server's (sockets, the database, other jobs' pipes) reaches the job.
        meeseeks_spawn_addclosefrom(&actions, 3)

        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        // Own process group, so timeout and cancel reach every descendant; default signal
        // dispositions, so a server's ignored SIGPIPE does not leak into the job.
        var defaults = sigset_t()
        sigfillset(&defaults)
        var empty = sigset_t()
        sigemptyset(&empty)
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        posix_spawnattr_setsigmask(&attributes, &empty)
        posix_spawnattr_setpgroup(&attributes, 0)
        posix_spawnattr_setflags(
            &attributes, Int16(POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK))

        let argvC = argv.map { strdup($0) } + [nil]
        let envC = environment.sorted { $0.key < $1.key }.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer {
            argvC.forEach { free($0) }
            envC.forEach { free($0) }
        }
        var pid: pid_t = 0
        let rc: Int32
        if program.contains("/") {
            rc = posix_spawn(&pid, program, &actions, &attributes, argvC, envC)
        } else {
            rc = Self.spawnFromPath(&pid, program, environment["PATH"], &actions, &attributes, argvC, envC)
        }
        close(fds[1])
        guard rc == 0 else {
            close(fds[0])
            throw SpawnError(description: "cannot run \(program): \(String(cString: strerror(rc)))")
        }
        self.pid = pid
        self.readFD = fds[0]
    }

    /// `posix_spawnp` searches the server's PATH; jobs must search the PATH they will run with.
    private static func spawnFromPath(
        _ pid: inout pid_t, _ program: String, _ path: String?, _ actions: inout posix_spawn_file_actions_t,
        _ attributes: inout posix_spawnattr_t, _ argv: [UnsafeMutablePointer<CChar>?],
        _ env: [UnsafeMutablePointer<CChar>?]
    ) -> Int32 {
        let directories = (path ?? "/usr/local/bin:/usr/bin:/bin").split(separator: ":")
        for directory in directories {
            let candidate = "\(directory)/\(program)"
            if access(candidate, X_OK) == 0 {
                return posix_spawn(&pid, candidate, &actions, &attributes, argv, env)
            }
        }
        return ENOENT
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
