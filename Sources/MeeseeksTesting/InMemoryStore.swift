public import MeeseeksCore
import Synchronization

/// Every store port (`BoxStore`, one extension per port) in memory, with the semantics of
/// `SQLiteStore`: what unit tests of the dispatcher, the registry and the dialogs run on. The
/// conformance suites (`Tests/StoreConformanceTests`) hold it and SQLite to the same contract.
///
/// Ids increase from 1 and are never reused; each call is atomic (a failed write leaves nothing
/// behind); job secrets and dialog states are sealed through the injected `SecretSealer`, bound
/// to `job:<id>` and `dialog:<id>` as SQLite binds them, so a sealed value is only ever opened
/// for the row it was sealed for. Without a sealer, storing a secret or a dialog is refused, as
/// by a store opened without the box's key. Limits are read as SQLite reads `LIMIT`: a negative
/// one is no limit (`queued(after:limit:)` alone clamps it to 0).
///
/// ```swift
/// let store = InMemoryStore(sealer: AESGCMSealer(key: SymmetricKey(size: .bits256)))
/// let (job, _) = try store.insert(Job(command: "hello", arguments: [:], requester: "U1", createdAt: 0),
///                                 children: [], secrets: nil)
/// let started = try store.start(job.id, agent: "a1", at: 1)   // attempt 1
/// ```
public final class InMemoryStore: Sendable {
    /// The data, shared by every handle `reopened(sealer:)` makes: the in-memory "file".
    final class Storage: Sendable {
        let state = Mutex(State())
    }

    let storage: Storage
    /// Seals job secrets and dialog states; without one, storing either is refused.
    let sealer: (any SecretSealer)?

    /// A new, empty store.
    /// - Parameter sealer: seals secrets and dialogs; nil for a store without the box's key.
    public init(sealer: (any SecretSealer)? = nil) {
        storage = Storage()
        self.sealer = sealer
    }

    private init(storage: Storage, sealer: (any SecretSealer)?) {
        self.storage = storage
        self.sealer = sealer
    }

    /// Another handle on the same data, with another sealer (or none): what opening the same
    /// database file again, after a restart or with another key, is to `SQLiteStore`.
    public func reopened(sealer: (any SecretSealer)?) -> InMemoryStore {
        InMemoryStore(storage: storage, sealer: sealer)
    }

    /// Runs `body` on the data under the lock. Every write does all that can fail (sealing,
    /// constraint checks) before its first change, so a throwing call changes nothing, as a
    /// rolled-back transaction. (Working on a copy would do the same at the cost of copying every
    /// table on every write.)
    func write<T: Sendable, E: Error>(_ body: (inout State) throws(E) -> T) throws(E) -> T {
        try storage.state.withLock { state throws(E) -> T in try body(&state) }
    }

    /// Reads the data under the lock.
    func read<T: Sendable, E: Error>(_ body: (State) throws(E) -> T) throws(E) -> T {
        try storage.state.withLock { state throws(E) -> T in try body(state) }
    }

    func requireSealer() throws(SealError) -> any SecretSealer {
        guard let sealer else { throw SealError.cannotSeal("this store was opened without the box's secret key") }
        return sealer
    }
}

/// A write the in-memory store refuses, where SQLite's constraints would refuse it too.
public struct InMemoryStoreError: Error, Hashable, Sendable, CustomStringConvertible {
    public var description: String

    init(_ description: String) {
        self.description = description
    }
}

extension InMemoryStore {
    /// One job as a row: the job, and what SQLite keeps beside it.
    struct JobRow: Sendable {
        var job: Job
        var secrets: [UInt8]?
        var handbacks = 0
        /// Output kept, the truncation marker included.
        var output: [UInt8] = []
        /// Bytes of output not kept.
        var dropped = 0
        /// Approvers' decisions, oldest first (deleted with the job, as SQLite's cascade).
        var decisions: [ApprovalDecision] = []
    }

    struct DialogRow: Sendable {
        var sealed: [UInt8]
        var updatedAt: Double
        var waiting: Bool
        /// Insertion order: SQLite's rowid, which breaks ties between equal times.
        var sequence: Int64
    }

    enum OutboxState: Sendable {
        case pending, delivered, failed
    }

    struct OutboxRow: Sendable {
        var message: OutboxMessage
        var state: OutboxState = .pending
        var lastError: String?
    }

    /// Everything the store holds.
    struct State: Sendable {
        var lastJobID: Int64 = 0
        /// Rows by id, and their ids in increasing order.
        var jobs: [Int64: JobRow] = [:]
        var jobOrder: [Int64] = []

        var dialogs: [String: DialogRow] = [:]
        var dialogSequence: Int64 = 0
        var agents: [String: AgentRecord] = [:]

        var lastAuditID: Int64 = 0
        var audit: [AuditEntry] = []
        /// Tokens by name.
        var tokens: [String: APIToken] = [:]
        /// Per-agent credentials in insertion order, with their revocation numbers.
        var credentials: [(credential: AgentCredential, revokedSeq: Int64?)] = []
        var lastRevocation: Int64 = 0

        var lastOutboxID: Int64 = 0
        /// Rows in increasing id order.
        var outbox: [OutboxRow] = []
        var messageRefs: [String: (channel: String, ts: String, updatedAt: Double)] = [:]
        /// When each inbound event id was first seen.
        var events: [String: Double] = [:]

        /// Rows in id order, from the first id above `afterID`.
        func jobRows(after afterID: Int64 = 0) -> some Sequence<JobRow> {
            let start = jobOrder.partitionPoint { $0 > afterID }
            return jobOrder[start...].lazy.compactMap { jobs[$0] }
        }
    }
}

extension Array {
    /// The index of the first element for which `isAbove` holds, in an array where it holds for a
    /// suffix (binary search).
    func partitionPoint(where isAbove: (Element) -> Bool) -> Int {
        var low = 0
        var high = count
        while low < high {
            let middle = (low + high) / 2
            if isAbove(self[middle]) { high = middle } else { low = middle + 1 }
        }
        return low
    }
}

extension String {
    /// SQLite's default (BINARY) collation: byte order of the UTF-8 text.
    func precedesInBinaryCollation(_ other: String) -> Bool {
        utf8.lexicographicallyPrecedes(other.utf8)
    }
}

extension Int {
    /// `LIMIT n` as SQLite reads it: a negative limit means no limit.
    var sqliteLimit: Int { self < 0 ? Int.max : self }
}
