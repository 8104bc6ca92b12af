public import MeeseeksLabels

/// Which jobs to list.
public struct JobQuery: Hashable, Sendable {
    public var requester: String?
    public var statuses: Set<JobStatus>?
    public var parentID: Int64?
    /// Only top-level jobs (no broadcast children).
    public var topLevelOnly: Bool
    public var limit: Int
    /// Only jobs with a larger id (oldest-first paging that survives rows changing status).
    public var afterID: Int64?
    /// Oldest first (the queue) instead of newest first (history).
    public var oldestFirst: Bool

    public init(
        requester: String? = nil, statuses: Set<JobStatus>? = nil, parentID: Int64? = nil, topLevelOnly: Bool = false,
        limit: Int = 50, afterID: Int64? = nil, oldestFirst: Bool = false
    ) {
        self.afterID = afterID
        self.requester = requester
        self.statuses = statuses
        self.parentID = parentID
        self.topLevelOnly = topLevelOnly
        self.limit = limit
        self.oldestFirst = oldestFirst
    }
}

/// An agent as the registry keeps it.
public struct AgentRecord: Hashable, Sendable, Codable {
    public var id: String
    public var hostname: String
    public var labels: LabelSet
    public var commands: [String]
    public var slots: Int
    public var busy: Int
    public var version: String
    public var connected: Bool
    public var lastSeen: Double
    /// Whether it verifies 2FA codes (it holds a secrets file).
    public var verifiesTwoFactor: Bool = true
    /// The commands it defines itself, by how the box took each: accepted (it runs them),
    /// conflicting (another agent defined the name first, differently: not routed here), or
    /// shadowed (the box defines the name: the box's command wins).
    public var owns: [String] = []
    public var conflicts: [String] = []
    public var shadowed: [String] = []

    private enum CodingKeys: String, CodingKey {
        case id, hostname, labels, commands, slots, busy, version, connected, lastSeen, verifiesTwoFactor, owns, conflicts, shadowed
    }

    /// Records stored by earlier versions lack the newer fields: they read as their defaults.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        id = try c.decode(String.self, forKey: .id)
        hostname = try c.decode(String.self, forKey: .hostname)
        labels = try c.decode(LabelSet.self, forKey: .labels)
        commands = try c.decode([String].self, forKey: .commands)
        slots = try c.decode(Int.self, forKey: .slots)
        busy = try c.decodeIfPresent(Int.self, forKey: .busy) ?? 0
        version = try c.decode(String.self, forKey: .version)
        connected = try c.decode(Bool.self, forKey: .connected)
        lastSeen = try c.decode(Double.self, forKey: .lastSeen)
        verifiesTwoFactor = try c.decodeIfPresent(Bool.self, forKey: .verifiesTwoFactor) ?? true
        owns = try c.decodeIfPresent([String].self, forKey: .owns) ?? []
        conflicts = try c.decodeIfPresent([String].self, forKey: .conflicts) ?? []
        shadowed = try c.decodeIfPresent([String].self, forKey: .shadowed) ?? []
    }

    public init(
        id: String, hostname: String, labels: LabelSet, commands: [String], slots: Int, busy: Int = 0,
        version: String, connected: Bool, lastSeen: Double
    ) {
        self.id = id
        self.hostname = hostname
        self.labels = labels
        self.commands = commands
        self.slots = slots
        self.busy = busy
        self.version = version
        self.connected = connected
        self.lastSeen = lastSeen
    }

    public var info: AgentInfo {
        AgentInfo(
            id: id, labels: labels, commands: commands, owns: Set(owns), defines: Set(owns + conflicts + shadowed),
            verifiesTwoFactor: verifiesTwoFactor)
    }
}

/// A stored audit record.
public struct AuditEntry: Hashable, Sendable, Codable {
    public var id: Int64
    public var time: Double
    public var record: AuditRecord

    public init(id: Int64, time: Double, record: AuditRecord) {
        self.id = id
        self.time = time
        self.record = record
    }
}

/// An API token as stored: a name, the user it acts as, and the SHA-256 of the secret.
public struct APIToken: Hashable, Sendable, Codable {
    public var name: String
    public var user: String
    public var hash: String
    public var createdAt: Double
    public var revoked: Bool

    public init(name: String, user: String, hash: String, createdAt: Double, revoked: Bool = false) {
        self.name = name
        self.user = user
        self.hash = hash
        self.createdAt = createdAt
        self.revoked = revoked
    }
}
