import MeeseeksCore
import MeeseeksGRPC

/// Checks an agent's token against its enrolled credential (hashes compared in constant time).
/// A credential that cannot be read refuses the agent: it may have been revoked.
struct AgentAuthenticator: Sendable {
    let credentials: any AgentCredentialStore

    func authenticate(agentID: String, token: String) -> AgentAuthentication {
        let credential: AgentCredential?
        do {
            credential = try credentials.credential(agentID: agentID)
        } catch {
            return .unavailable("\(error)")
        }
        guard let credential else { return .notEnrolled }
        return ConstantTime.equals(BoxAPI.hash(token: token), credential.hash) ? .enrolled(credential) : .wrongToken
    }
}
