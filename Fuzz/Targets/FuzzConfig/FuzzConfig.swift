import FuzzSupport
import MeeseeksConfig

#if canImport(Glibc)
import Glibc
#endif

/// The configuration front end as `meeseeks lint` and SIGHUP run it: libyaml, the tree builder,
/// the command, policy and settings decoders, and every lint rule.
///
/// Input: one file, linted as `meeseeks lint FILE` (commands and policies told apart by content);
/// or, when it holds lines `#file NAME` (a YAML comment), a configuration folder with those files
/// (`meeseeks.yaml`, `commands.d/X.yaml`, `policies.d/X.yaml`), loaded as `serve --config` loads it.
/// Lines between `#repeat N` and `#end` are repeated N times, up to the 1 MiB a file may hold, so a
/// small input can stand for a huge file and -timeout finds work that grows faster than the file.
/// Checks: nothing crashes or hangs; every diagnostic has a 1-based position; a configuration is
/// returned exactly when there is no error.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzConfig(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let files = bundle(expand(input(data, size)))
    scratch.replace(with: files)
    let result: ConfigLoader.Result
    if files.count == 1, files[0].name == single {
        result = ConfigLoader.load(paths: [scratch.path + "/" + single])
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

/// The input with each `#repeat N` … `#end` block written out N times, at most `limit` bytes.
func expand(_ bytes: [UInt8], limit: Int = 1 << 20) -> [UInt8] {
    var lines = bytes.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false)[...]
    var out: [UInt8] = []
    while let line = lines.popFirst() {
        guard line.starts(with: repeatMarker), let count = Int(text(line.dropFirst(repeatMarker.count))), count > 0 else {
            out += line
            if !lines.isEmpty { out.append(UInt8(ascii: "\n")) }
            continue
        }
        var block: [UInt8] = []
        while let inner = lines.popFirst(), !inner.elementsEqual(endMarker) {
            block += inner
            block.append(UInt8(ascii: "\n"))
        }
        guard !block.isEmpty else { continue }
        for _ in 0..<min(count, max(0, limit - out.count) / block.count + 1) { out += block }
    }
    return Array(out.prefix(limit))
}

let repeatMarker = Array("#repeat ".utf8)
let endMarker = Array("#end".utf8)

/// The name of a lone file: `meeseeks lint` guesses its role.
let single = "input.yaml"
let marker = Array("#file ".utf8)

/// Splits the input at `#file NAME` lines into files with safe relative names.
func bundle(_ bytes: [UInt8]) -> [(name: String, content: ArraySlice<UInt8>)] {
    var files: [(name: String, content: ArraySlice<UInt8>)] = []
    var name = single
    var start = 0
    var lineStart = 0
    func close(at end: Int) {
        if end > start || name != single { files.append((name, bytes[start..<end])) }
    }
    while lineStart < bytes.count {
        let lineEnd = bytes[lineStart...].firstIndex(of: UInt8(ascii: "\n")) ?? bytes.count
        if bytes[lineStart..<lineEnd].starts(with: marker) {
            close(at: lineStart)
            name = safeName(text(bytes[(lineStart + marker.count)..<lineEnd]), index: files.count)
            start = min(lineEnd + 1, bytes.count)
        }
        lineStart = lineEnd + 1
    }
    close(at: bytes.count)
    return files.isEmpty ? [(single, ArraySlice<UInt8>())] : files
}

/// `meeseeks.yaml`, `commands.d/X.yaml` or `policies.d/X.yaml`; anything else becomes a command file.
func safeName(_ requested: String, index: Int) -> String {
    let name = requested.trimmingSpaces
    if name == "meeseeks.yaml" { return name }
    let parts = name.split(separator: "/", omittingEmptySubsequences: false)
    let stem = (parts.last ?? "").split(separator: ".").first ?? ""
    let base = stem.filter { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == "_") }
    let folder = parts.count == 2 && parts[0] == "policies.d" ? "policies.d" : "commands.d"
    return "\(folder)/\(base.isEmpty ? "f\(index)" : String(base.prefix(32))).yaml"
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

    mutating func replace(with files: [(name: String, content: ArraySlice<UInt8>)]) {
        for name in written { unlink("\(path)/\(name)") }
        for folder in ["commands.d", "policies.d"] { rmdir("\(path)/\(folder)") }
        written = []
        for file in files {
            if let slash = file.name.firstIndex(of: "/") { mkdir("\(path)/\(file.name[..<slash])", 0o700) }
            let fd = open("\(path)/\(file.name)", O_WRONLY | O_CREAT | O_TRUNC, 0o600)
            guard fd >= 0 else { continue }
            let content = Array(file.content)
            _ = content.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
            close(fd)
            written.append(file.name)
        }
    }
}

nonisolated(unsafe) var scratch = Scratch()
