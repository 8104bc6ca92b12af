#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Reads configuration files with the checks an operator's mistakes call for: too large, not text,
/// unreadable, a symlink loop. Each failure is a diagnostic, never a crash.
public enum ConfigFile {
    /// Configuration files larger than this are refused unread.
    static let maxSize = 1 << 20

    enum Entry: Equatable {
        case file
        case directory
        case missing
        case other(String)
    }

    static func kind(of path: String) -> Entry {
        var info = stat()
        if stat(path, &info) != 0 {
            return errno == ENOENT ? .missing : .other(errorText(errno))
        }
        switch info.st_mode & S_IFMT {
        case S_IFDIR: return .directory
        case S_IFREG: return .file
        default: return .other("not a regular file")
        }
    }

    /// The text of `path`, or a diagnostic saying why it cannot be used.
    static func read(_ path: String) -> Result<String, Diagnostic> {
        let position = SourcePosition.file(path)
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else {
            return .failure(.error("unreadable", at: position, "cannot read: \(errorText(errno))"))
        }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0 else {
            return .failure(.error("unreadable", at: position, "cannot read: \(errorText(errno))"))
        }
        guard info.st_mode & S_IFMT == S_IFREG else {
            return .failure(.error("unreadable", at: position, "\(path) is not a regular file"))
        }
        guard Int(info.st_size) <= maxSize else {
            return .failure(
                .error(
                    "file-too-large", at: position,
                    "file is \(formatBytes(Int(info.st_size))); configuration files are limited to \(formatBytes(maxSize))"))
        }
        var bytes: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 64 * 1024)
        while true {
            let n = buffer.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
            if n < 0 {
                if errno == EINTR { continue }
                return .failure(.error("unreadable", at: position, "cannot read: \(errorText(errno))"))
            }
            if n == 0 { break }
            bytes += buffer[0..<n]
            if bytes.count > maxSize {
                return .failure(
                    .error("file-too-large", at: position, "file is larger than \(formatBytes(maxSize)), the limit for configuration files")
                )
            }
        }
        if let nul = bytes.firstIndex(of: 0) {
            return .failure(
                .error("binary-file", at: Self.position(of: nul, in: bytes, file: path), "not a text file (NUL byte); is this really YAML?")
            )
        }
        guard let text = String(validating: bytes, as: UTF8.self) else {
            return .failure(.error("binary-file", at: position, "not valid UTF-8 text; configuration files must be UTF-8"))
        }
        return .success(text)
    }

    /// What tells one version of a file from the next without reading it.
    public struct Stamp: Hashable, Sendable {
        public var size: Int64
        public var modified: Int64
        public var inode: UInt64
    }

    /// The file's stamp, or nil if it cannot be stat'ed.
    public static func stamp(_ path: String) -> Stamp? {
        var info = stat()
        guard stat(path, &info) == 0 else { return nil }
        let modified = Int64(info.st_mtim.tv_sec) * 1_000_000_000 + Int64(info.st_mtim.tv_nsec)
        return Stamp(size: Int64(info.st_size), modified: modified, inode: UInt64(info.st_ino))
    }

    /// YAML files directly in `directory`, sorted by name, or a diagnostic.
    public static func yamlFiles(in directory: String) -> Result<[String], Diagnostic> {
        guard let dir = opendir(directory) else {
            return .failure(.error("unreadable", at: .file(directory), "cannot list \(directory): \(errorText(errno))"))
        }
        defer { closedir(dir) }
        var names: [String] = []
        while let entry = readdir(dir) {
            // The name is read where it lies, up to its NUL: copying `d_name` out copies all 256
            // bytes the type declares, past the end of a short entry at the end of readdir's
            // buffer (ASan saw it under FuzzConfig with 10,000 files in a folder).
            let name = String(cString: UnsafeRawPointer(entry).advanced(by: nameOffset).assumingMemoryBound(to: CChar.self))
            if name.hasPrefix(".") { continue }
            if name.hasSuffix(".yaml") || name.hasSuffix(".yml") { names.append(name) }
        }
        return .success(names.sorted().map { directory.hasSuffix("/") ? directory + $0 : directory + "/" + $0 })
    }

    private static let nameOffset = MemoryLayout<dirent>.offset(of: \dirent.d_name)!

    static func errorText(_ code: Int32) -> String {
        String(cString: strerror(code))
    }

    static func formatBytes(_ count: Int) -> String {
        if count >= 1 << 20 { return "\(((Double(count) / 1_048_576) * 10).rounded() / 10) MiB" }
        if count >= 1 << 10 { return "\(count >> 10) KiB" }
        return "\(count) bytes"
    }

    private static func position(of index: Int, in bytes: [UInt8], file: String) -> SourcePosition {
        let before = bytes[..<index]
        let line = before.reduce(1) { $1 == 10 ? $0 + 1 : $0 }
        let column = index - (before.lastIndex(of: 10).map { $0 + 1 } ?? 0) + 1
        return SourcePosition(file: file, line: line, column: column)
    }
}
