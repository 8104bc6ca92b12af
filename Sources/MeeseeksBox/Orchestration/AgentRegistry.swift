import MeeseeksCore

/// Who is connected: each agent's session, link and record, the fleet index that the policy
/// and the scheduler search, and since when absent agents have been silent (their running jobs
/// are lost after `agents.lost_after`).
struct AgentRegistry {
    struct Connected {
        var record: AgentRecord
        var link: any AgentLink
        /// One per stream, so the end of an old stream never removes a newer one.
        var session: String
        /// The agent said it is shutting down: it gets no more jobs on this connection.
        var draining = false
    }

    private(set) var connected: [String: Connected] = [:]
    private(set) var fleet = FleetIndex()
    /// When each absent agent with running jobs was last heard from.
    private var absentSince: [String: Double] = [:]
    /// Agents not seen since this box started get longer: they reconnect with a backoff of up to
    /// half a minute after a box was down.
    static let reconnectAllowance: Double = 35
    let startedAt: Double

    init(startedAt: Double) {
        self.startedAt = startedAt
    }

    /// Takes an agent in, or says why not: an id is held by one live connection at a time, and
    /// nobody takes the embedded agent's.
    mutating func admit(_ record: AgentRecord, session: String, link: any AgentLink, embedded: Bool = false) throws(AgentRefusal) {
        if let existing = connected[record.id], existing.session != session {
            throw AgentRefusal(
                "agent id '\(record.id)' is already connected (from \(existing.record.hostname)); give each agent its own id")
        }
        if record.id == LocalAgent.id, !embedded {
            throw AgentRefusal("agent id '\(record.id)' belongs to the box's embedded agent; choose another")
        }
        connected[record.id] = Connected(record: record, link: link, session: session)
        fleet.insert(record.info)
        absentSince[record.id] = nil
    }

    /// Removes an agent's connection (only `session`'s, when given); nil when it was not there.
    mutating func remove(_ id: String, session: String?, lastContact: Double) -> AgentRecord? {
        guard let current = connected[id], session == nil || current.session == session else { return nil }
        connected[id] = nil
        fleet.remove(id)
        absentSince[id] = lastContact
        var record = current.record
        record.connected = false
        record.lastSeen = lastContact
        return record
    }

    /// Which of its own commands an agent runs, and how the others were taken.
    mutating func setOwnCommands(of id: String, owns: Set<String>, defines: Set<String>, conflicts: [String], shadowed: [String]) {
        guard connected[id] != nil else { return }
        connected[id]?.record.owns = owns.subtracting(shadowed).sorted()
        connected[id]?.record.conflicts = conflicts
        connected[id]?.record.shadowed = shadowed
        fleet.setOwnCommands(of: id, owns: owns, defines: defines)  // absent from the index while draining: no-op
    }

    mutating func markDraining(_ id: String) {
        connected[id]?.draining = true
        fleet.remove(id)
    }

    func link(_ id: String) -> (any AgentLink)? { connected[id]?.link }
    func slots(of id: String) -> Int { connected[id]?.record.slots ?? 0 }
    func isConnected(_ id: String) -> Bool { connected[id] != nil }

    /// Connected agents, as the interpreter and the policy see them.
    var infos: [AgentInfo] { fleet.all }

    /// Of `agents` (those with running jobs), the ones absent for too long, with how long they
    /// have been silent. Absences of agents with nothing running are forgotten.
    mutating func overdue(among agents: [String], now: Double, lostAfter: Double) -> [(agent: String, silent: Double)] {
        let busy = Set(agents)
        absentSince = absentSince.filter { busy.contains($0.key) }
        return agents.compactMap { agent in
            guard connected[agent] == nil else { return nil }
            let since = absentSince[agent] ?? startedAt
            let bound = absentSince[agent] == nil ? lostAfter + Self.reconnectAllowance : lostAfter
            return now - since >= bound ? (agent, now - since) : nil
        }
    }
}
