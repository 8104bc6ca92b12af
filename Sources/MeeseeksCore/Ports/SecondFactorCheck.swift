/// Where a two-factor code is judged: where the job runs, against that host's own secrets (the
/// executor asks; the 2FA module answers).
public protocol SecondFactorCheck: Sendable {
    func verify(user: String, code: String?) -> SecondFactorVerdict
}

/// A code's verdict as the executor needs it.
public struct SecondFactorVerdict: Hashable, Sendable {
    public var isAccepted: Bool
    /// The rejection code sent to the box: `two_factor`, or `two_factor_locked` when the user
    /// may not try again soon.
    public var code: String
    /// What the user is told; never contains the code.
    public var message: String

    public init(isAccepted: Bool, code: String, message: String) {
        self.isAccepted = isAccepted
        self.code = code
        self.message = message
    }

    /// No code can be judged on this host.
    public static func unavailable(_ why: String) -> SecondFactorVerdict {
        SecondFactorVerdict(isAccepted: false, code: "two_factor", message: "2FA is unavailable on this agent: \(why)")
    }
}
