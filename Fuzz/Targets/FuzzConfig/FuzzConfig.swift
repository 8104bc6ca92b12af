import FuzzInputs
import FuzzSupport
import MeeseeksConfig

#if canImport(Glibc)
    import Glibc
#endif

/// The configuration front end as `meeseeks lint` and SIGHUP run it: libyaml, the tree builder,
/// the command, policy and settings decoders, and every lint rule.
///
/// Input: see `ConfigInput` (one file, or a folder of them; `#repeat` blocks stand for huge files,
/// so -timeout finds work that grows faster than the file).
/// Checks: nothing crashes or hangs; every diagnostic has a 1-based position; a configuration is
/// returned exactly when there is no error.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzConfig(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let files = ConfigInput.files(input(data, size))
    scratch.replace(with: files)
    let result: ConfigLoader.Result
    if ConfigInput.isSingle(files) {
        result = ConfigLoader.load(paths: [scratch.path + "/" + ConfigInput.single])
    } else {
        result = ConfigLoader.load(directory: scratch.path)
    }
    for diagnostic in result.diagnostics {
        check(diagnostic.position.line >= 1 && diagnostic.position.column >= 1, "position not 1-based: \(diagnostic)")
        _ = diagnostic.description
    }
    let hasErrors = result.diagnostics.contains { $0.severity == .error }
    check((result.configuration == nil) == hasErrors, "a configuration with errors, or none without: \(result.diagnostics)")
    return 0
}

/// A folder of this process's own, emptied and refilled for each input.
struct Scratch {
    let path: String
    private var written: [String] = []

    init() {
        let base = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp"
        path = "\(base)/meeseeks-fuzz-config-\(getpid())"
        mkdir(path, 0o700)
        atexit { scratch.remove() }
    }

    mutating func remove() {
        replace(with: [])
        rmdir(path)
    }

    mutating func replace(with files: [(name: String, content: [UInt8])]) {
        for name in written { unlink("\(path)/\(name)") }
        for folder in ["commands.d", "policies.d"] { rmdir("\(path)/\(folder)") }
        written = []
        for file in files {
            if let slash = file.name.firstIndex(of: "/") { mkdir("\(path)/\(file.name[..<slash])", 0o700) }
            let fd = open("\(path)/\(file.name)", O_WRONLY | O_CREAT | O_TRUNC, 0o600)
            guard fd >= 0 else { continue }
            _ = file.content.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
            close(fd)
            written.append(file.name)
        }
    }
}

nonisolated(unsafe) var scratch = Scratch()
