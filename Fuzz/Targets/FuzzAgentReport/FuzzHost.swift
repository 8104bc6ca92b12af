import FuzzSupport
import MeeseeksConfig
import MeeseeksCore
import MeeseeksGRPC
import MeeseeksLabels
import Synchronization

/// What a box keeps of one agent stream, checking every call the agent service makes.
final class FuzzHost: AgentHost {
    static let token = "fuzz-agent-token"

    struct State {
        var registered: AgentRecord?
        var reports = 0
        var disconnected = false
    }

    let state = Mutex(State())

    func admission() async -> AgentAdmission { .accept(epoch: 7) }

    func authenticate(agentID: String, token: String) async -> AgentAuthentication {
        // One id is enrolled, bound to env=fuzz, with its own token; the rest use the shared one.
        guard agentID == "enrolled" else { return .notEnrolled }
        guard token == "own" else { return .wrongToken }
        return .enrolled(AgentCredential(agentID: agentID, labels: ["env": "fuzz"], commands: ["deploy*"], hash: "", createdAt: 0))
    }

    func register(
        _ record: AgentRecord, offer: AgentOffer, session: String, link: any AgentLink, holding: [JobRef]
    ) async throws(AgentRefusal) {
        check(AgentIdentity.isValid(record.id), "registered an invalid id \(record.id.debugDescription)")
        check((1...10_000).contains(record.slots), "registered \(record.slots) slots")
        check(record.labels.values.count <= 64, "registered \(record.labels.values.count) labels")
        check(offer.definitions.count <= DefinitionRules.maxCommands, "registered \(offer.definitions.count) definitions")
        check(Set(offer.definitions.map(\.name)).count == offer.definitions.count, "a command defined twice was registered")
        if record.id == "enrolled" {
            // An enrolled agent stays within its binding: no label and no command glob it was not given.
            check(
                record.labels.values.allSatisfy { $0 == ("env", "fuzz") } && record.commands.allSatisfy { $0 == "deploy*" },
                "an enrolled agent registered outside its binding: \(record.labels) \(record.commands)")
        }
        if record.id == "taken" { throw AgentRefusal("agent 'taken' is already connected") }
        state.withLock { state in
            check(state.registered == nil, "registered twice on one stream")
            state.registered = record
        }
    }

    func catalogChanged(_ agentID: String, session: String, definitions: [CommandSpec], digests: [String: String]) async {
        report(from: agentID)
        check(definitions.count <= DefinitionRules.maxCommands, "a catalog of \(definitions.count) definitions")
    }

    func disconnected(_ agentID: String, session: String, lastContact: Double) async {
        state.withLock { state in
            check(state.registered?.id == agentID, "\(agentID) disconnected without registering")
            state.disconnected = true
        }
    }

    func remoteStarted(_ jobID: Int64, attempt: Int, agent: String) async { report(from: agent) }

    func remoteOutput(_ jobID: Int64, attempt: Int, offset: Int, bytes: [UInt8], isTail: Bool, agent: String) async {
        report(from: agent)
        check(offset >= 0 && !offset.addingReportingOverflow(bytes.count).overflow, "output at \(offset) + \(bytes.count)")
    }

    func remoteFinished(_ jobID: Int64, attempt: Int, outcome: JobOutcome, agent: String) async -> Bool {
        report(from: agent)
        return jobID % 2 == 0  // an odd job: this box could not record it (the agent must keep it)
    }

    func remoteRejected(_ jobID: Int64, attempt: Int, code: String, reason: String, agent: String) async { report(from: agent) }

    func agentRefused(_ agentID: String?, reason: String, peer: String) async {
        check(!reason.isEmpty, "a refusal without a reason")
    }

    func lostAfter() async -> Int { 3600 }

    private func report(from agent: String) {
        state.withLock { state in
            check(state.registered?.id == agent, "a report from \(agent.debugDescription) before or without its registration")
            state.reports += 1
        }
    }

    /// After the stream: the box spoke first with `Registered` for the agent, or not at all.
    func checkEnd(sent: [Meeseeks_Agent_V1_BoxMessage]) {
        let final = state.withLock { $0 }
        guard let record = final.registered else {
            check(sent.isEmpty, "the box sent \(sent.count) messages to an agent that never registered")
            check(final.reports == 0, "reports reached the box without a registration")
            return
        }
        guard case .registered(let registered)? = sent.first?.kind else {
            fatalError("the first message to \(record.id) was \(String(describing: sent.first)), not Registered")
        }
        check(registered.agentID == record.id && registered.epoch == 7, "Registered names \(registered.agentID)")
        check(final.disconnected, "\(record.id)'s stream ended without the box hearing of it")
    }
}
