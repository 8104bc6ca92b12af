import Foundation

/// A scratch directory removed when the test ends.
final class TemporaryDirectory {
    let path: String

    init() {
        path = FileManager.default.temporaryDirectory.appendingPathComponent("meeseeks-\(UUID().uuidString)").path
        try! FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    deinit {
        try? FileManager.default.removeItem(atPath: path)
    }

    /// Writes `files` (relative path → content), creating folders.
    @discardableResult
    func write(_ files: [String: String]) -> TemporaryDirectory {
        for (name, content) in files {
            let full = "\(path)/\(name)"
            try! FileManager.default.createDirectory(
                atPath: (full as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            try! content.write(toFile: full, atomically: true, encoding: .utf8)
        }
        return self
    }
}
