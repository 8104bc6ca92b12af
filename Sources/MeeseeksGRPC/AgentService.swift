import Foundation
public import GRPCCore
public import Logging
import MeeseeksConfig
import MeeseeksCore
import MeeseeksLabels
import SwiftProtobuf
import Synchronization

/// The box's end of the agent protocol: authenticates, registers, then relays jobs out and
/// reports in until the stream ends or goes silent for longer than `lostAfter`.
public struct AgentService: Meeseeks_Agent_V1_AgentService.ServiceProtocol {
    let host: any AgentHost
    let token: String?
    let logger: Logger
    /// The names the agent's client certificate carries (subject CN and DNS SANs), with mutual
    /// TLS; nil without a client certificate.
    let certificateNames: @Sendable (ServerContext) -> [String]?
    /// One watch over every session of this service.
    let silenceWatch = SilenceWatch()

    /// - Parameters:
    ///   - token: `MEESEEKS_AGENT_TOKEN`; without one every agent is refused.
    ///   - certificateNames: with mutual TLS, an agent's id must be one of these.
    public init(
        host: any AgentHost, token: String?, logger: Logger,
        certificateNames: @escaping @Sendable (ServerContext) -> [String]? = { _ in nil }
    ) {
        self.host = host
        self.token = token.flatMap { $0.isEmpty ? nil : $0 }
        self.logger = logger
        self.certificateNames = certificateNames
    }

    public func connect(
        request: StreamingServerRequest<Meeseeks_Agent_V1_AgentMessage>, context: ServerContext
    ) async throws -> StreamingServerResponse<Meeseeks_Agent_V1_BoxMessage> {
        // Checked with the registration, which names the agent: an enrolled agent's token is
        // its own, not the shared one.
        let bearer = request.metadata[stringValues: "authorization"].first(where: { _ in true })
            .map { $0.hasPrefix("Bearer ") ? String($0.dropFirst(7)) : $0 }
        let messages = request.messages
        let names = certificateNames(context)
        return StreamingServerResponse { writer in
            try await session(messages, writer, bearer: bearer, certificateNames: names, peer: context.remotePeer)
            return [:]
        }
    }

    func isValid(_ candidate: String) -> Bool {
        guard let token else { return false }
        return ConstantTime.equals(candidate, token)
    }

    func refuse(
        _ why: String, peer: String, code: RPCError.Code = .unauthenticated, hint: String = ": set MEESEEKS_AGENT_TOKEN to the box's token",
        metric: String? = nil
    ) -> RPCError {
        logger.warning("agent refused", metadata: ["reason": "\(why)", "peer": "\(peer)"])
        // A fixed label: reasons that name ids or labels would make a series per attacker.
        AgentMetrics.refused(metric ?? why)
        return RPCError(code: code, message: why + hint)
    }

    /// The registration's token against the agent's enrolled credential, or the shared token;
    /// the binding the registration must then stay within (nil: not enrolled).
    private func authenticate(_ register: Meeseeks_Agent_V1_Register, bearer: String?, peer: String) async throws -> AgentCredential? {
        let presented = bearer ?? register.token
        let id = register.agentID
        switch await host.authenticate(agentID: id, token: presented) {
        case .enrolled(let credential):
            return credential
        case .notEnrolled:
            guard isValid(presented) else {
                await host.agentRefused(id, reason: "missing or wrong agent token", peer: peer)
                throw refuse("missing or wrong agent token", peer: peer)
            }
            return nil
        case .wrongToken:
            await host.agentRefused(id, reason: "wrong token for an enrolled agent", peer: peer)
            throw refuse(
                "agent '\(id)' is enrolled and this is not its token", peer: peer,
                hint:
                    " (the shared token does not open an enrolled id): set MEESEEKS_AGENT_TOKEN to the token `meeseeks agent enroll` printed",
                metric: "wrong_enrolled_token")
        case .unavailable(let why):
            await host.agentRefused(id, reason: "credentials unavailable: \(why)", peer: peer)
            throw refuse(
                "the box cannot check agent credentials right now", peer: peer, code: .unavailable, hint: "; try again",
                metric: "credentials_unavailable")
        }
    }

    private func session(
        _ messages: RPCAsyncSequence<Meeseeks_Agent_V1_AgentMessage, any Error>, _ writer: RPCWriter<Meeseeks_Agent_V1_BoxMessage>,
        bearer: String?, certificateNames: [String]?, peer: String
    ) async throws {
        let state = SessionState()
        let (outbound, continuation) = AsyncStream.makeStream(of: Meeseeks_Agent_V1_BoxMessage.self)
        let link = GRPCAgentLink(outbound: continuation)
        let lostAfter = await host.lostAfter()
        defer { continuation.finish() }
        do {
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask {
                    for await message in outbound { try await writer.write(message) }
                }
                group.addTask {
                    for try await message in messages {
                        state.touch()
                        if let agent = state.agent {
                            try await handle(message, agent: agent, session: state.session, link: link)
                        } else {
                            let (record, epoch) = try await register(
                                message, bearer: bearer, certificateNames: certificateNames, peer: peer, link: link, state: state)
                            var registered = Meeseeks_Agent_V1_Registered()
                            registered.agentID = record.id
                            registered.epoch = epoch
                            let heartbeat = silenceWatch.paceForNewcomer(lostAfter: lostAfter)
                            registered.heartbeatSeconds = Int32(clamping: heartbeat)
                            link.send(.with { $0.registered = registered })
                            state.heartbeat = heartbeat  // after: a sweep's Pace never overtakes Registered
                        }
                    }
                }
                group.addTask {
                    // Long silence ends the session: the agent is gone, or hangs.
                    try await silenceWatch.silence(of: state, lostAfter: lostAfter, link: link)
                }
                _ = try await group.next()
                group.cancelAll()
            }
        } catch {
            guard let agent = state.agent else { throw error }  // a refusal goes back to the agent as its status
            logger.info("agent stream ended", metadata: ["agent": "\(agent)", "reason": "\(error)"])
            let silent = (error as? RPCError)?.code == .deadlineExceeded
            await host.disconnected(
                agent, session: state.session, lastContact: silent ? state.lastContact : Self.contact(of: state, lostAfter))
            // A message refused as malformed ends the stream with that status, so the agent knows why.
            if let refusal = error as? RPCError, refusal.code == .invalidArgument || refusal.code == .failedPrecondition { throw refusal }
            return
        }
        if let agent = state.agent {
            // The agent closed its side: it was there just now.
            await host.disconnected(agent, session: state.session, lastContact: Date().timeIntervalSince1970)
        }
    }

    /// When an agent whose connection failed was last known alive: its last message, or as late as
    /// the connection's keepalive proves, whichever is later. Heartbeats may be minutes apart in a
    /// big fleet; the keepalive (set when the connection was accepted, from the `lostAfter` of then)
    /// would have ended a connection silent for longer than its window, so an agent that died or
    /// restarted finds its running jobs waiting for it for at least `lostAfter` less that window.
    static func contact(of state: SessionState, _ lostAfter: Int) -> Double {
        max(state.lastContact, Date().timeIntervalSince1970 - Double(TransportKeepalive(lostAfter: lostAfter).window))
    }

    /// The first message: a registration with a valid token, or the end of the stream.
    private func register(
        _ first: Meeseeks_Agent_V1_AgentMessage, bearer: String?, certificateNames: [String]?, peer: String, link: GRPCAgentLink,
        state: SessionState
    ) async throws -> (AgentRecord, UInt64) {
        guard case .register(let register)? = first.kind else {
            throw RPCError(code: .failedPrecondition, message: "the first message must be Register")
        }
        if let certificateNames, !certificateNames.contains(register.agentID) {
            // With mutual TLS the certificate names the agent: a stolen token alone is not enough.
            let why =
                "the client certificate names \(certificateNames.isEmpty ? "nobody" : certificateNames.joined(separator: ", ")), not agent '\(register.agentID)'"
            await host.agentRefused(register.agentID, reason: why, peer: peer)
            throw refuse(
                why, peer: peer, code: .permissionDenied, hint: "; use --id with the certificate's name", metric: "certificate_mismatch")
        }
        let binding = try await authenticate(register, bearer: bearer, peer: peer)
        let record: AgentRecord
        let offer: AgentOffer
        do {
            record = try Self.validate(register)
            offer = try Self.offer(register.definitions, verifiesTwoFactor: register.verifiesTwoFactor)
        } catch {
            await host.agentRefused(register.agentID, reason: error.message, peer: peer)
            throw error
        }
        if let binding, let why = binding.refusal(claimingLabels: record.labels, commands: record.commands) {
            await host.agentRefused(record.id, reason: why, peer: peer)
            throw refuse(why, peer: peer, code: .permissionDenied, hint: "", metric: "outside_binding")
        }
        let epoch: UInt64
        switch await host.admission() {
        case .accept(let current):
            epoch = current
        case .redirect(let leader):
            // A standby: the agent is told where the leader is, and moves there.
            var metadata = Metadata()
            if let leader { metadata.addString(leader, forKey: Self.leaderKey) }
            throw RPCError(
                code: .unavailable,
                message: "this box does not lead\(leader.map { "; the leader is \($0)" } ?? " and knows no leader yet")",
                metadata: metadata)
        }
        do {
            try await host.register(
                record, offer: offer, session: state.session, link: link,
                holding: register.running.map { JobRef(jobID: $0.jobID, attempt: Int($0.attempt)) })
        } catch {
            logger.warning("agent registration refused", metadata: ["agent": "\(record.id)", "reason": "\(error)"])
            await host.agentRefused(record.id, reason: error.description, peer: peer)
            AgentMetrics.refused("duplicate_id")
            throw RPCError(code: .alreadyExists, message: error.description)
        }
        state.agent = record.id
        logger.info("agent registered", metadata: ["agent": "\(record.id)", "peer": "\(peer)", "session": "\(state.session)"])
        return (record, epoch)
    }

    /// The metadata key in which a standby names the leader's gRPC address.
    public static let leaderKey = "meeseeks-leader"

    private func handle(_ message: Meeseeks_Agent_V1_AgentMessage, agent: String, session: String, link: GRPCAgentLink) async throws {
        switch message.kind {
        case .heartbeat:
            break  // its arrival was noted (the session's last contact); nothing else to do
        case .started(let started):
            await host.remoteStarted(started.jobID, attempt: Int(started.attempt), agent: agent)
        case .output(let output):
            let offset = try Self.offset(output.offset, count: output.data.count, agent: agent)
            await host.remoteOutput(
                output.jobID, attempt: Int(output.attempt), offset: offset, bytes: Array(output.data), isTail: false, agent: agent)
        case .result(let result):
            if !result.outputTail.isEmpty {
                let offset = try Self.offset(result.outputOffset, count: result.outputTail.count, agent: agent)
                await host.remoteOutput(
                    result.jobID, attempt: Int(result.attempt), offset: offset, bytes: Array(result.outputTail), isTail: true,
                    agent: agent)
            }
            guard await host.remoteFinished(result.jobID, attempt: Int(result.attempt), outcome: result.outcome, agent: agent) else {
                throw RPCError(
                    code: .unavailable,
                    message:
                        "this box could not record the result (it no longer leads, or its database is out of reach); keep it and deliver it again"
                )
            }
            // Acknowledged even when it changed nothing (a repeat): the agent may forget it now.
            link.send(
                .with {
                    $0.ack = .with {
                        $0.jobID = result.jobID
                        $0.attempt = result.attempt
                    }
                })
        case .rejected(let rejected):
            await host.remoteRejected(
                rejected.jobID, attempt: Int(rejected.attempt), code: rejected.code, reason: rejected.reason, agent: agent)
        case .catalog(let catalog):
            let offer = try Self.offer(catalog.definitions, verifiesTwoFactor: false)
            await host.catalogChanged(agent, session: session, definitions: offer.definitions, digests: offer.digests)
        case .register:
            throw RPCError(code: .failedPrecondition, message: "Register is sent once, first")
        case nil:
            logger.warning("empty message from agent", metadata: ["agent": "\(agent)"])
            AgentMetrics.malformed()
        }
    }

    /// An output offset as a byte position: the chunk must end before `Int.max`, or the report is
    /// refused (the stream ends with `invalidArgument`), never trapped on.
    static func offset(_ offset: UInt64, count: Int, agent: String) throws(RPCError) -> Int {
        guard let start = Int(exactly: offset), !start.addingReportingOverflow(count).overflow else {
            AgentMetrics.malformed()
            throw RPCError(code: .invalidArgument, message: "output offset \(offset) is out of range")
        }
        return start
    }

    /// Checks a registration as `mrmeeseeks` flags are checked: id, labels, slots, globs.
    static func validate(_ register: Meeseeks_Agent_V1_Register) throws(RPCError) -> AgentRecord {
        let id = register.agentID
        guard AgentIdentity.isValid(id) else {
            throw RPCError(code: .invalidArgument, message: "agent id '\(id)' must be \(AgentIdentity.rule)")
        }
        for (key, value) in register.labels {
            if let problem = LabelRules.keyProblem(key) {
                throw RPCError(code: .invalidArgument, message: "label key '\(key)': \(problem)")
            }
            if let problem = LabelRules.valueProblem(value) {
                throw RPCError(code: .invalidArgument, message: "label value '\(value)': \(problem)")
            }
        }
        guard register.labels.count <= 64, register.commands.count <= 1000, register.running.count <= 100_000,
            register.hostname.utf8.count <= 253, register.version.utf8.count <= 64,
            register.commands.allSatisfy({ !$0.isEmpty && $0.utf8.count <= 253 })
        else {
            throw RPCError(
                code: .invalidArgument,
                message:
                    "registration too large: at most 64 labels, 1000 command globs of 253 bytes, a 253-byte hostname and a 64-byte version")
        }
        guard (1...10_000).contains(register.slots) else {
            throw RPCError(code: .invalidArgument, message: "slots must be between 1 and 10000, not \(register.slots)")
        }
        // No globs means every box command, unless the agent runs only its own.
        let commands = register.ownCommandsOnly ? register.commands : register.commands.isEmpty ? ["*"] : register.commands
        var record = AgentRecord(
            id: id, hostname: register.hostname, labels: LabelSet(register.labels), commands: commands, slots: Int(register.slots),
            version: register.version, connected: true, lastSeen: Date().timeIntervalSince1970)
        record.verifiesTwoFactor = register.verifiesTwoFactor
        return record
    }

    /// An agent's own commands, each checked as lint checks a file's (a refusal names the first
    /// problem and ends the stream with `invalidArgument`).
    static func offer(_ definitions: [Meeseeks_Agent_V1_CommandDefinition], verifiesTwoFactor: Bool) throws(RPCError) -> AgentOffer {
        guard definitions.count <= DefinitionRules.maxCommands else {
            AgentMetrics.malformed()
            throw RPCError(code: .invalidArgument, message: "more than \(DefinitionRules.maxCommands) command definitions")
        }
        var offer = AgentOffer(verifiesTwoFactor: verifiesTwoFactor)
        for definition in definitions {
            let spec: CommandSpec
            do {
                spec = try definition.spec()
            } catch {
                AgentMetrics.malformed()
                throw error
            }
            guard offer.digests.updateValue(definition.digest.lowercased(), forKey: spec.name) == nil else {
                throw RPCError(code: .invalidArgument, message: "command '\(spec.name)' is defined twice")
            }
            offer.definitions.append(spec)
        }
        return offer
    }
}

/// What one stream knows of its agent. Its last contact and heartbeat interval are atomics: every
/// message writes one, and each sweep of the silence watch reads both for every session.
final class SessionState: Sendable {
    let session = UUID().uuidString
    private let registered = Mutex<String?>(nil)
    /// The last message's time, as the bits of a `Double` (seconds since 1970).
    private let lastContactBits = Atomic<UInt64>(Date().timeIntervalSince1970.bitPattern)
    /// The heartbeat interval the agent was asked for, in seconds; 0 before it registered.
    private let heartbeatSeconds = Atomic<Int>(0)

    var agent: String? {
        get { registered.withLock { $0 } }
        set { registered.withLock { $0 = newValue } }
    }

    var lastContact: Double { Double(bitPattern: lastContactBits.load(ordering: .relaxed)) }

    /// The heartbeat interval the agent was asked for, in seconds (nil before it registered).
    var heartbeat: Int? {
        get {
            let seconds = heartbeatSeconds.load(ordering: .relaxed)
            return seconds > 0 ? seconds : nil
        }
        set { heartbeatSeconds.store(max(0, newValue ?? 0), ordering: .relaxed) }
    }

    func touch() {
        lastContactBits.store(Date().timeIntervalSince1970.bitPattern, ordering: .relaxed)
    }
}

/// The box's handle on one agent stream.
final class GRPCAgentLink: AgentLink {
    let outbound: AsyncStream<Meeseeks_Agent_V1_BoxMessage>.Continuation

    init(outbound: AsyncStream<Meeseeks_Agent_V1_BoxMessage>.Continuation) {
        self.outbound = outbound
    }

    struct Closed: Error, CustomStringConvertible {
        var description: String { "the agent's stream is closed" }
    }

    @discardableResult
    func send(_ message: Meeseeks_Agent_V1_BoxMessage) -> Bool {
        if case .terminated = outbound.yield(message) { return false }
        return true
    }

    func dispatch(_ plan: ExecutionPlan) throws {
        guard send(.with { $0.job = Meeseeks_Agent_V1_JobAssignment(plan) }) else { throw Closed() }
    }

    func cancel(jobID: Int64, attempt: Int) async {
        send(
            .with {
                $0.cancel = .with {
                    $0.jobID = jobID
                    $0.attempt = Int32(attempt)
                }
            })
    }

    func close() {
        outbound.finish()
    }
}
