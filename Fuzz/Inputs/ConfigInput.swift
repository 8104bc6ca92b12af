/// How FuzzConfig reads its input as configuration files, shared with the Swift tests that replay
/// `Fuzz/regressions/FuzzConfig`.
///
/// Input: one file, linted as `meeseeks lint FILE`; or, when it holds lines `#file NAME` (a YAML
/// comment), a configuration folder with those files (`meeseeks.yaml`, `commands.d/X.yaml`,
/// `policies.d/X.yaml`). Lines between `#repeat N` and `#end` are written out N times, up to
/// 256 KiB in all, so a small input can stand for a huge file: big enough for work that grows
/// faster than the file to pass libFuzzer's -timeout, small enough to keep the fuzzer quick.
public enum ConfigInput {
    /// The name of a lone file, whose role `meeseeks lint` guesses from its content.
    public static let single = "input.yaml"

    /// The files the input stands for, with safe relative names.
    public static func files(_ bytes: [UInt8]) -> [(name: String, content: [UInt8])] {
        split(expand(bytes))
    }

    /// Whether the files are one lone file (linted as `meeseeks lint FILE`) rather than a folder.
    public static func isSingle(_ files: [(name: String, content: [UInt8])]) -> Bool {
        files.count == 1 && files[0].name == single
    }

    static let repeatMarker = Array("#repeat ".utf8)
    static let endMarker = Array("#end".utf8)
    static let fileMarker = Array("#file ".utf8)

    /// Each `#repeat N` … `#end` block written out N times, at most `limit` bytes in all.
    static func expand(_ bytes: [UInt8], limit: Int = 256 << 10) -> [UInt8] {
        var lines = bytes.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false)[...]
        var out: [UInt8] = []
        while let line = lines.popFirst() {
            guard line.starts(with: repeatMarker),
                let count = Int(String(decoding: line.dropFirst(repeatMarker.count), as: UTF8.self)), count > 0
            else {
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

    /// Cuts the text at `#file NAME` lines.
    static func split(_ bytes: [UInt8]) -> [(name: String, content: [UInt8])] {
        var files: [(name: String, content: [UInt8])] = []
        var name = single
        var start = 0
        var lineStart = 0
        func close(at end: Int) {
            if end > start || name != single { files.append((name, Array(bytes[start..<end]))) }
        }
        while lineStart < bytes.count {
            let lineEnd = bytes[lineStart...].firstIndex(of: UInt8(ascii: "\n")) ?? bytes.count
            if bytes[lineStart..<lineEnd].starts(with: fileMarker) {
                close(at: lineStart)
                let requested = String(decoding: bytes[(lineStart + fileMarker.count)..<lineEnd], as: UTF8.self)
                name = safeName(requested, index: files.count)
                start = min(lineEnd + 1, bytes.count)
            }
            lineStart = lineEnd + 1
        }
        close(at: bytes.count)
        return files.isEmpty ? [(single, [])] : files
    }

    /// `meeseeks.yaml`, `commands.d/X.yaml` or `policies.d/X.yaml`; anything else becomes a command file.
    static func safeName(_ requested: String, index: Int) -> String {
        let name = requested.filter { !$0.isWhitespace }
        if name == "meeseeks.yaml" { return name }
        let parts = name.split(separator: "/", omittingEmptySubsequences: false)
        let stem = (parts.last ?? "").split(separator: ".").first ?? ""
        let base = stem.filter { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == "_") }
        let folder = parts.count == 2 && parts[0] == "policies.d" ? "policies.d" : "commands.d"
        return "\(folder)/\(base.isEmpty ? "f\(index)" : String(base.prefix(32))).yaml"
    }
}
