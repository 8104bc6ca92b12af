import Foundation

/// Unbuffered writes to the standard streams, bytes as they are (job output need not be UTF-8,
/// and a chunk may end inside a character).
enum FileOutput {
    case standardOutput, standardError

    func write(_ text: String) {
        writeBytes(Array(text.utf8))
    }

    func writeBytes(_ bytes: [UInt8]) {
        let fd = self == .standardOutput ? STDOUT_FILENO : STDERR_FILENO
        var rest = bytes[...]
        while !rest.isEmpty {
            let n = rest.withUnsafeBytes { Foundation.write(fd, $0.baseAddress, $0.count) }
            if n < 0, errno == EINTR { continue }
            if n <= 0 { return }
            rest = rest.dropFirst(n)
        }
    }
}
