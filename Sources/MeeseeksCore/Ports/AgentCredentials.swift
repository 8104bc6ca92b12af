public import MeeseeksLabels

/// A per-agent credential (`meeseeks agent enroll`): a token, kept only as its SHA-256, bound to
/// one agent id, the labels that agent may claim and, optionally, the box commands it may take.
/// Stronger than the shared `MEESEEKS_AGENT_TOKEN`: a stolen token claims one id, within its
/// binding, and is revoked alone.
public struct AgentCredential: Hashable, Sendable, Codable {
    public var agentID: String
    /// Every label the agent claims must be here, with the same value.
    public var labels: LabelSet
    /// The `--commands` globs the agent may claim (each one must be listed here); nil: any.
    public var commands: [String]?
    public var hash: String
    public var createdAt: Double
    public var revoked: Bool

    public init(agentID: String, labels: LabelSet, commands: [String]?, hash: String, createdAt: Double, revoked: Bool = false) {
        self.agentID = agentID
        self.labels = labels
        self.commands = commands
        self.hash = hash
        self.createdAt = createdAt
        self.revoked = revoked
    }

    /// Labels as a store keeps them (`k=v,k=v`). Written from parsed labels, so they parse; a
    /// row that does not (altered by hand) binds no label at all: it fails closed.
    public static func storedLabels(_ text: String) -> LabelSet {
        do {
            return try LabelSet.parse(text)
        } catch {
            return LabelSet()
        }
    }

    /// Why a registration claiming `labels` and box-command globs `commands` exceeds this
    /// binding; nil when it stays within it.
    public func refusal(claimingLabels claimed: LabelSet, commands claimedCommands: [String]) -> String? {
        for key in claimed.values.keys.sorted() where labels.get(key) != claimed.get(key) {
            return
                "agent '\(agentID)' may not claim the label \(key)=\(claimed.get(key) ?? ""): it was enrolled with \(labels.description.isEmpty ? "no labels" : labels.description)"
        }
        if let commands {
            for glob in claimedCommands where !commands.contains(glob) {
                return "agent '\(agentID)' may not take the commands '\(glob)': it was enrolled for \(commands.joined(separator: ","))"
            }
        }
        return nil
    }
}

/// Per-agent credentials. Revocations carry an increasing sequence number, so a box learns of
/// new ones with one cheap query however many agents it holds.
public protocol AgentCredentialStore: Sendable {
    /// Stores a new credential; fails when an unrevoked one exists for that agent id.
    func saveCredential(_ credential: AgentCredential) throws
    /// The unrevoked credential of `agentID`, if any.
    func credential(agentID: String) throws -> AgentCredential?
    /// Every credential, revoked ones included, by agent id.
    func credentials() throws -> [AgentCredential]
    /// Revokes the agent's credential; false when it has none unrevoked.
    func revokeCredential(agentID: String) throws -> Bool
    /// Agent ids revoked after revocation number `after`, and the newest number (or `after`).
    func revokedCredentials(after: Int64) throws -> (agentIDs: [String], newest: Int64)
}
