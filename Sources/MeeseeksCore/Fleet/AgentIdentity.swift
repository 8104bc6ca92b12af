/// What an agent id may be: the one rule the agent protocol and `meeseeks agent enroll` share.
public enum AgentIdentity {
    public static let rule = "1-253 letters, digits, '-', '_', '.' or ':'"

    public static func isValid(_ id: String) -> Bool {
        !id.isEmpty && id.utf8.count <= 253 && id.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || "-_.:".contains($0)) }
    }
}
