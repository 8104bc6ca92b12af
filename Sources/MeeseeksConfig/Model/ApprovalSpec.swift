/// Four-eyes approval: a job of the command waits until `count` people holding one of `roles`
/// (never its requester) approve it, and ends `expired` when nobody has within `timeout`.
public struct ApprovalSpec: Hashable, Sendable {
    public var roles: [String]
    /// Different approvers needed (1 to `maximumCount`).
    public var count: Int
    /// Seconds a job waits for its approvers.
    public var timeout: Int
    /// Where approval requests are posted; nil sends each approver a direct message.
    public var channel: String?
    public var position: SourcePosition

    public init(
        roles: [String], count: Int = 1, timeout: Int = ApprovalSpec.defaultTimeout, channel: String? = nil,
        position: SourcePosition = .file("<memory>")
    ) {
        self.roles = roles
        self.count = count
        self.timeout = timeout
        self.channel = channel
        self.position = position
    }

    public static let defaultTimeout = 1800
    public static let maximumCount = 10
    /// A week: longer than anyone should leave a dangerous request open.
    public static let maximumTimeout = 7 * 86_400
}
