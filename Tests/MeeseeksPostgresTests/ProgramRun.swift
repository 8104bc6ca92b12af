import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// What a program printed and how it ended.
struct ProgramResult {
    var status: Int32
    var output: String
    var errors: String
}

/// Runs a program to its end with `posix_spawn` and `waitpid`, its output in temporary files.
///
/// Not Foundation's `Process`: on Linux its `waitUntilExit` is woken through the global dispatch
/// queue, which is also the cooperative pool the tests run on; with both of its threads blocked
/// in tests, nothing wakes it.
func runProgram(_ path: String, _ arguments: [String], environment: [String: String] = ProcessInfo.processInfo.environment)
    throws -> ProgramResult
{
    let base = "\(FileManager.default.temporaryDirectory.path)/program-\(UUID().uuidString)"
    let outputPath = base + ".out"
    let errorsPath = base + ".err"
    defer {
        unlink(outputPath)
        unlink(errorsPath)
    }
    var actions = posix_spawn_file_actions_t()
    posix_spawn_file_actions_init(&actions)
    defer { posix_spawn_file_actions_destroy(&actions) }
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
    posix_spawn_file_actions_addopen(&actions, 1, outputPath, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
    posix_spawn_file_actions_addopen(&actions, 2, errorsPath, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
    let argv = ([path] + arguments).map { strdup($0) } + [nil]
    let envp = environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
    defer {
        argv.forEach { free($0) }
        envp.forEach { free($0) }
    }
    var pid = pid_t()
    let spawned = posix_spawn(&pid, path, &actions, nil, argv, envp)
    guard spawned == 0 else {
        throw PostgresTestCluster.Unavailable(description: "cannot run \(path): \(String(cString: strerror(spawned)))")
    }
    var status: Int32 = 0
    while waitpid(pid, &status, 0) == -1, errno == EINTR {}
    // WIFEXITED / WEXITSTATUS, which Swift does not import; a signal reads as 128 + its number.
    let exitStatus = status & 0x7f == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f)
    func read(_ path: String) -> String {
        String(decoding: FileManager.default.contents(atPath: path) ?? Data(), as: UTF8.self)
    }
    return ProgramResult(status: exitStatus, output: read(outputPath), errors: read(errorsPath))
}
