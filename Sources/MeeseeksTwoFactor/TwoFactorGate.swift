import Foundation
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
            case .wrongCode(let remaining): "wrong code, try again (\(remaining) attempt\(remaining == 1 ? "" : "s") left before a lock-out)"
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

    public func verify(user: String, code: String?, at now: Double = Date().timeIntervalSince1970) -> Verdict {
        lock.withLock { _ in
            let secrets: SecretsFile
            do throws(SecretsFile.Problem) {
                secrets = try SecretsFile.load(secretsPath)
            } catch {
                return .unavailable(error.description)
            }
            guard let totp = secrets.entries[user] else { return .noSecret }
            var states = loadState()
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
                verdict = state.failures.count >= maxFailures
                    ? .wrongCode(remaining: 0) : .wrongCode(remaining: maxFailures - state.failures.count)
            }
            states[user] = state
            saveState(states)
            return verdict
        }
    }

    private func loadState() -> [String: UserState] {
        guard let data = FileManager.default.contents(atPath: statePath) else { return [:] }
        return (try? JSONDecoder().decode([String: UserState].self, from: data)) ?? [:]
    }

    private func saveState(_ states: [String: UserState]) {
        guard let data = try? JSONEncoder().encode(states) else { return }
        let temporary = statePath + ".tmp"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        guard fd >= 0 else { return }
        _ = data.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        fsync(fd)
        close(fd)
        rename(temporary, statePath)
    }
}
