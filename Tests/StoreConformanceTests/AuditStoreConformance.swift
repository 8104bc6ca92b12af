import MeeseeksCore
import Testing

/// `AuditStore`: appended to, read back filtered, the newest entries first kept, oldest first shown.
@Suite("AuditStore conformance", .closesStores)
struct AuditStoreConformance {

    /// 1 U1 deploy allowed @10 · 2 U2 deploy denied @20 · 3 U1 hello allowed @30 · 4 U1 (no command) ok @40 ·
    /// 5 U2 hello denied @50.
    func trail(_ factory: StoreFactory) throws -> any BoxStore {
        let store = try factory.make()
        let records: [(AuditRecord, Double)] = [
            (AuditRecord(action: .policyAllowed, user: "U1", command: "deploy", outcome: "allowed"), 10),
            (
                AuditRecord(
                    action: .policyDenied, user: "U2", command: "deploy", outcome: "denied", reason: "not in ops"), 20
            ),
            (AuditRecord(action: .jobQueued, user: "U1", command: "hello", outcome: "allowed", jobID: 7), 30),
            (AuditRecord(action: .agentRegistered, user: "U1", outcome: "ok", detail: "labels env=stg"), 40),
            (AuditRecord(action: .policyDenied, user: "U2", command: "hello", outcome: "denied"), 50),
        ]
        for (record, time) in records { try store.append(record, at: time) }
        return store
    }

    @Test("entries read back whole, numbered from 1, oldest first", arguments: StoreFactory.all)
    func roundTrip(_ factory: StoreFactory) throws {
        let store = try factory.make()
        #expect(try store.audit(AuditQuery()).isEmpty)
        let record = AuditRecord(
            action: .twoFactorFailed, user: "U1", command: "deploy", outcome: "denied", reason: "wrong code", jobID: 12,
            detail: "attempt 2 of 3")
        try store.append(record, at: 10.5)
        try store.append(AuditRecord(action: .configReloaded, user: "box", outcome: "ok"), at: 11)
        let entries = try store.audit(AuditQuery())
        #expect(entries.first == AuditEntry(id: 1, time: 10.5, record: record))
        #expect(entries.map(\.id) == [1, 2])
        #expect(entries.last?.record == AuditRecord(action: .configReloaded, user: "box", outcome: "ok"))
    }

    @Test("every action reads back as the same action", arguments: StoreFactory.all)
    func everyAction(_ factory: StoreFactory) throws {
        let store = try factory.make()
        for (n, action) in AuditAction.allCases.enumerated() {
            try store.append(AuditRecord(action: action, user: "U1", outcome: "ok"), at: Double(n))
        }
        #expect(try store.audit(AuditQuery()).map(\.record.action) == AuditAction.allCases)
    }

    static let queries: [(AuditQuery, [Double])] = [
        (AuditQuery(), [10, 20, 30, 40, 50]),
        (AuditQuery(user: "U1"), [10, 30, 40]),
        (AuditQuery(command: "deploy"), [10, 20]),
        (AuditQuery(command: "nothing"), []),
        (AuditQuery(outcome: "denied"), [20, 50]),
        (AuditQuery(since: 30), [30, 40, 50]),  // inclusive
        (AuditQuery(until: 30), [10, 20, 30]),  // inclusive
        (AuditQuery(since: 20, until: 40), [20, 30, 40]),
        (AuditQuery(since: 41, until: 40), []),
        (AuditQuery(limit: 2), [40, 50]),  // the newest, shown oldest first
        (AuditQuery(limit: 0), []),
        (AuditQuery(limit: Int.max), [10, 20, 30, 40, 50]),
        (AuditQuery(user: "U2", command: "hello", outcome: "denied"), [50]),
        (AuditQuery(user: "U1", since: 15, limit: 1), [40]),
        (AuditQuery(user: "U1", command: "hello", until: 35), [30]),
    ]

    @Test(
        "the trail filters by user, command, outcome and time, and keeps the newest up to the limit",
        arguments: StoreFactory.all)
    func filters(_ factory: StoreFactory) throws {
        let store = try trail(factory)
        for (query, times) in Self.queries {
            #expect(try store.audit(query).map(\.time) == times, "\(query)")
        }
    }

    @Test("entries with equal times keep the order they were written in", arguments: StoreFactory.all)
    func equalTimes(_ factory: StoreFactory) throws {
        let store = try factory.make()
        for user in ["U3", "U1", "U2"] {
            try store.append(AuditRecord(action: .commandRequested, user: user, outcome: "ok"), at: 5)
        }
        #expect(try store.audit(AuditQuery()).map(\.record.user) == ["U3", "U1", "U2"])
        #expect(try store.audit(AuditQuery(limit: 2)).map(\.record.user) == ["U1", "U2"])
    }
}
