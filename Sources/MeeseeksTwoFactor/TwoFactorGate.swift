import Foundation
public import MeeseeksCore
import Synchronization

/// Verifies users' codes where the job runs: against the agent's own secrets, each code accepted
/// once per user and step (remembered on disk, across restarts), and at most `maxFailures`
/// failures per user in `failureWindow` seconds before a lock-out.
public final class TwoFactorGate: Sendable {
    public enum Verdict: Hashable, Sendable {
        case accepted
        case wrongCode(remaining: Int)
        case reused
        case lockedOut(retryAfter: Int)
        case noSecret
        case unavailable(String)

        public var isAccepted: Bool { self == .accepted }

        /// The message the user sees; never contains the code.
        public var message: String {
            switch self {
            case .accepted: "code accepted"
            case .wrongCode(let remaining):
                "wrong code, try again (\(remaining) attempt\(remaining == 1 ? "" : "s") left before a lock-out)"
            case .reused: "that code was already used; wait for the next one"
            case .lockedOut(let seconds): "too many wrong codes: locked out for \(seconds)s"
            case .noSecret: "you are not enrolled for 2FA on this agent; ask an admin (meeseeks 2fa enroll)"
            case .unavailable(let why): "2FA is unavailable on this agent: \(why)"
            }
        }

        /// The rejection code sent to the box.
        public var code: String {
            switch self {
            case .lockedOut: "two_factor_locked"
            default: "two_factor"
            }
        }

        /// Whether the user may try again in this dialog.
        public var final: Bool {
            switch self {
            case .wrongCode, .reused: false
            default: true
            }
        }
    }

    struct UserState: Codable {
        var lastStep: Int64 = .min
        var failures: [Double] = []
    }

    let secretsPath: String
    let statePath: String
    public let maxFailures: Int
    public let failureWindow: Double
    private let lock = Mutex<Void>(())

    /// - Parameters:
    ///   - secrets: the secrets file.
    ///   - state: where used steps and failures are remembered (default: beside the secrets file).
    public init(secrets: String, state: String? = nil, maxFailures: Int = 5, failureWindow: Double = 300) {
        self.secretsPath = secrets
        self.statePath = state ?? secrets + ".state"
        self.maxFailures = maxFailures
        self.failureWindow = failureWindow
    }

    /// Checks the secrets file now, so a broken one is reported at start rather than at the first job.
    public func check() throws(SecretsFile.Problem) -> Int {
        try SecretsFile.load(secretsPath).entries.count
    }

    /// Whether the replay and lock-out state can be read and written now: nil when it can, else
    /// why not. Without it every two-factor job is refused, so the agent says so at start-up.
    public func stateProblem() -> String? {
        lock.withLock { _ -> String? in
            do throws(StateProblem) {
                try saveState(try loadState())
                return nil
            } catch {
                return error.description
            }
        }
    }

    public func verify(user: String, code: String?, at now: Double = Date().timeIntervalSince1970) -> Verdict {
        lock.withLock { _ in
            let secrets: SecretsFile
            do throws(SecretsFile.Problem) {
                secrets = try SecretsFile.load(secretsPath)
            } catch {
                return .unavailable(error.description)
            }
            guard let totp = secrets.entries[user] else { return .noSecret }
            // Fail closed: a code is judged only when its use can be remembered. Without the state
            // the same code would work twice and lock-outs would never trigger.
            var states: [String: UserState]
            do throws(StateProblem) {
                states = try loadState()
            } catch {
                return .unavailable(error.description)
            }
            var state = states[user] ?? UserState()
            state.failures.removeAll { now - $0 >= failureWindow }
            if state.failures.count >= maxFailures {
                let retry = Int((state.failures.min()! + failureWindow - now).rounded(.up))
                return .lockedOut(retryAfter: max(1, retry))
            }
            let digits = (code ?? "").filter { !$0.isWhitespace }
            var verdict: Verdict
            if let step = totp.matchingStep(digits, at: now) {
                if step <= state.lastStep {
                    verdict = .reused
                } else {
                    state.lastStep = step
                    verdict = .accepted
                }
            } else {
                state.failures.append(now)
                verdict =
                    state.failures.count >= maxFailures
                    ? .wrongCode(remaining: 0) : .wrongCode(remaining: maxFailures - state.failures.count)
            }
            states[user] = state
            do throws(StateProblem) {
                try saveState(states)
            } catch {
                return .unavailable(error.description)
            }
            return verdict
        }
    }

    struct StateProblem: Error, CustomStringConvertible {
        var description: String
    }

    private func loadState() throws(StateProblem) -> [String: UserState] {
        let fd = open(statePath, O_RDONLY | O_CLOEXEC)
        if fd < 0 {
            if errno == ENOENT { return [:] }
            throw StateProblem(description: "cannot read the 2FA state \(statePath): \(String(cString: strerror(errno)))")
        }
        defer { close(fd) }
        var bytes: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n < 0, errno == EINTR { continue }
            guard n >= 0 else {
                throw StateProblem(description: "cannot read the 2FA state \(statePath): \(String(cString: strerror(errno)))")
            }
            if n == 0 { break }
            bytes += buffer[0..<n]
            guard bytes.count <= 16 << 20 else { throw StateProblem(description: "the 2FA state \(statePath) is larger than 16 MiB") }
        }
        if bytes.isEmpty { return [:] }
        do {
            return try JSONDecoder().decode([String: UserState].self, from: Data(bytes))
        } catch {
            throw StateProblem(
                description: "the 2FA state \(statePath) is damaged; move it away to start afresh (every user's used codes are forgotten)")
        }
    }

    /// Writes the state durably: a temporary file written whole and synced, renamed over the old
    /// one, and the folder synced, so a crash leaves either the old state or the new one.
    private func saveState(_ states: [String: UserState]) throws(StateProblem) {
        func fail(_ what: String) -> StateProblem {
            StateProblem(description: "cannot \(what) the 2FA state \(statePath): \(String(cString: strerror(errno)))")
        }
        let data: Data
        do {
            data = try JSONEncoder().encode(states)
        } catch {
            throw StateProblem(description: "cannot encode the 2FA state: \(error)")
        }
        let temporary = statePath + ".tmp"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw fail("write") }
        let bytes = Array(data)
        var written = 0
        while written < bytes.count {
            let n = bytes[written...].withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
            if n < 0, errno == EINTR { continue }
            guard n > 0 else {
                let problem = fail("write")
                close(fd)
                unlink(temporary)
                throw problem
            }
            written += n
        }
        guard fsync(fd) == 0 else {
            let problem = fail("sync")
            close(fd)
            unlink(temporary)
            throw problem
        }
        close(fd)
        guard rename(temporary, statePath) == 0 else {
            let problem = fail("replace")
            unlink(temporary)
            throw problem
        }
        let folder = (statePath as NSString).deletingLastPathComponent
        let dirFD = open(folder.isEmpty ? "." : folder, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if dirFD >= 0 {
            defer { close(dirFD) }
            guard fsync(dirFD) == 0 else { throw fail("sync the folder of") }
        }
    }
}

/// The executor asks the gate through Core's port; this module answers.
extension TwoFactorGate: SecondFactorCheck {
    public func verify(user: String, code: String?) -> SecondFactorVerdict {
        let verdict: Verdict = verify(user: user, code: code, at: Date().timeIntervalSince1970)
        return SecondFactorVerdict(isAccepted: verdict.isAccepted, code: verdict.code, message: verdict.message)
    }
}
