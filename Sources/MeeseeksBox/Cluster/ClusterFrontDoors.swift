import Foundation
import Logging
import MeeseeksConfig
import MeeseeksCore
import MeeseeksGRPC
import MeeseeksSlack

/// Slack's requests, on a box alone or on any box of a cluster: checked (signature once, event
/// id once: both kept in the database), written to the inbox, then acknowledged; the box that
/// leads carries them out from there. A request is acknowledged only once it is in the database,
/// so a box killed with requests not yet carried out loses none; a box that cannot write it
/// answers 503 (Slack retries events) rather than acknowledge what it could lose.
struct DurableSlackIntake: SlackIntake {
    let ledger: any EventLedger
    let forwarder: InboxForwarder
    let logger: Logger

    func accept(_ request: SlackRequest) -> SlackService.Acceptance {
        if case .ignore(let why) = request {
            logger.debug("Slack payload ignored", metadata: ["why": "\(why)"])
            return .ignored
        }
        var eventID: String?
        if case .open(_, _, _, _, let id) = request { eventID = id }
        do {
            guard try forwarder.post(kind: "slack", payload: Array(try ForwardedAnswer.encoder.encode(request)), eventID: eventID) else {
                logger.info("duplicate Slack event ignored", metadata: ["event_id": "\(eventID ?? "")"])
                return .duplicate
            }
            return .queued
        } catch {
            logger.error("cannot pass a Slack request to the leader", metadata: ["error": "\(error)"])
            return .busy
        }
    }

    func firstSighting(signature: String, window: Double) -> SignatureSighting {
        SlackService.firstSighting(signature: signature, window: window, ledger: ledger, logger: logger)
    }
}

/// Agents dialling a box of a cluster: the leader takes them; a standby refuses them with the
/// leader's address, and the agent moves there. A session stays with the orchestrator that
/// admitted it; when that box stops leading, it closes the session.
struct ClusterAgentHost: AgentHost {
    let leadership: Leadership
    let credentials: any AgentCredentialStore
    let lostAfterSeconds: @Sendable () -> Int

    func authenticate(agentID: String, token: String) async -> AgentAuthentication {
        AgentAuthenticator(credentials: credentials).authenticate(agentID: agentID, token: token)
    }

    private func current() async -> Orchestrator? { leadership.term?.orchestrator }

    func admission() async -> AgentAdmission {
        if let orchestrator = await current() { return .accept(epoch: await orchestrator.epoch) }
        return .redirect(leader: await leadership.leaderAddress)
    }

    func register(
        _ record: AgentRecord, offer: AgentOffer, session: String, link: any AgentLink, holding: [JobRef]
    ) async throws(AgentRefusal) {
        guard let orchestrator = await current() else { throw AgentRefusal("this box does not lead") }
        try await orchestrator.register(record, offer: offer, session: session, link: link, holding: holding)
    }

    func catalogChanged(_ agentID: String, session: String, definitions: [CommandSpec], digests: [String: String]) async {
        await current()?.catalogChanged(agentID, session: session, definitions: definitions, digests: digests)
    }

    func disconnected(_ agentID: String, session: String, lastContact: Double) async {
        await current()?.disconnected(agentID, session: session, lastContact: lastContact)
    }

    func remoteStarted(_ jobID: Int64, attempt: Int, agent: String) async {
        await current()?.remoteStarted(jobID, attempt: attempt, agent: agent)
    }

    func remoteOutput(_ jobID: Int64, attempt: Int, offset: Int, bytes: [UInt8], isTail: Bool, agent: String) async {
        await current()?.remoteOutput(jobID, attempt: attempt, offset: offset, bytes: bytes, isTail: isTail, agent: agent)
    }

    func remoteFinished(_ jobID: Int64, attempt: Int, outcome: JobOutcome, agent: String) async -> Bool {
        await current()?.remoteFinished(jobID, attempt: attempt, outcome: outcome, agent: agent) ?? false
    }

    func remoteRejected(_ jobID: Int64, attempt: Int, code: String, reason: String, agent: String) async {
        await current()?.remoteRejected(jobID, attempt: attempt, code: code, reason: reason, agent: agent)
    }

    func agentRefused(_ agentID: String?, reason: String, peer: String) async {
        await current()?.agentRefused(agentID, reason: reason, peer: peer)
    }

    func lostAfter() async -> Int {
        lostAfterSeconds()
    }
}
