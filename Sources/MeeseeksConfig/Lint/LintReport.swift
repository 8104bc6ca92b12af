import Foundation

/// How `meeseeks lint` and `mrmeeseeks lint` print findings: one format, one place.
public enum LintReport {
    /// Text on stderr (PATH:LINE:COL: error|warning: MESSAGE, and a count on a terminal), or a
    /// JSON array on stdout.
    public static func print(_ findings: [Diagnostic], files: Int, asJSON: Bool) throws {
        if asJSON {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
            let data = try encoder.encode(findings)
            FileHandle.standardOutput.write(Data((String(decoding: data, as: UTF8.self) + "\n").utf8))
            return
        }
        var text = findings.map { "\($0)\n" }.joined()
        if isatty(STDERR_FILENO) == 1 {
            let errors = findings.filter { $0.severity == .error }.count
            let warnings = findings.count - errors
            text +=
                "\(errors) error\(errors == 1 ? "" : "s"), \(warnings) warning\(warnings == 1 ? "" : "s") in \(files) file\(files == 1 ? "" : "s")\n"
        }
        FileHandle.standardError.write(Data(text.utf8))
    }
}
