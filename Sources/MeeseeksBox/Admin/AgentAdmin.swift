import Foundation
public import MeeseeksCore
public import MeeseeksLabels

/// `meeseeks agent enroll|list|revoke`: per-agent credentials in the database `serve` uses. A
/// new token is shown once; only its hash is kept. A box notices a revocation within a second
/// and disconnects the agent.
public struct AgentAdmin {
    let store: any AgentCredentialStore & AuditStore

    public init(store: any AgentCredentialStore & AuditStore) {
        self.store = store
    }

    public static func open(_ location: DatabaseLocation) throws(TokenAdmin.Problem) -> AgentAdmin {
        AgentAdmin(store: try TokenAdmin.openStore(location))
    }

    /// Enrolls `agentID`; returns its token (shown once).
    public func enroll(agentID: String, labels: LabelSet, commands: [String]?) throws(TokenAdmin.Problem) -> String {
        guard AgentIdentity.isValid(agentID) else {
            throw TokenAdmin.Problem(description: "'\(agentID)' is not a valid agent id: \(AgentIdentity.rule)")
        }
        let token = "mska_" + Hex.encode((0..<32).map { _ in UInt8.random(in: 0...255) })
        let credential = AgentCredential(
            agentID: agentID, labels: labels, commands: commands, hash: BoxAPI.hash(token: token), createdAt: Date().timeIntervalSince1970)
        do {
            try store.saveCredential(credential)
        } catch {
            throw TokenAdmin.Problem(description: "cannot enroll '\(agentID)': \(error) (revoke its credential first?)")
        }
        audit(.agentEnrolled, agentID, detail: "labels \(labels)\(commands.map { "; commands \($0.joined(separator: ","))" } ?? "")")
        return token
    }

    public func list() throws -> [AgentCredential] {
        try store.credentials()
    }

    /// False when the agent has no unrevoked credential.
    public func revoke(agentID: String) throws -> Bool {
        guard try store.revokeCredential(agentID: agentID) else { return false }
        audit(.agentRevoked, agentID, detail: nil)
        return true
    }

    private func audit(_ action: AuditAction, _ agentID: String, detail: String?) {
        do {
            try store.append(
                AuditRecord(action: action, user: "cli", outcome: "ok", detail: "agent \(agentID)\(detail.map { "; \($0)" } ?? "")"),
                at: Date().timeIntervalSince1970)
        } catch {
            FileHandle.standardError.write(Data("meeseeks: warning: the audit trail was not written: \(error)\n".utf8))
        }
    }
}
