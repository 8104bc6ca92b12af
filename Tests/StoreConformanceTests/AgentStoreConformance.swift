import MeeseeksCore
import MeeseeksLabels
import Testing

/// `AgentStore`: agents as last seen, one record per id.
@Suite("AgentStore conformance", .closesStores)
struct AgentStoreConformance {

    func agent(_ id: String, connected: Bool = true, lastSeen: Double = 10) -> AgentRecord {
        AgentRecord(
            id: id, hostname: "\(id).example", labels: ["env": "stg", "role": "web"], commands: ["deploy", "hello"],
            slots: 4,
            busy: 2, version: "1.2.3", connected: connected, lastSeen: lastSeen)
    }

    @Test("agents read back whole, ordered by id, one record per id", arguments: StoreFactory.all)
    func saveAndList(_ factory: StoreFactory) throws {
        let store = try factory.make()
        #expect(try store.agents().isEmpty)
        for id in ["web-2", "Web-1", "db-1", "web-10"] { try store.save(agent(id)) }
        #expect(try store.agents().map(\.id) == ["Web-1", "db-1", "web-10", "web-2"])  // byte order
        #expect(try store.agents().first { $0.id == "db-1" } == agent("db-1"))
        try store.save(agent("db-1", connected: false, lastSeen: 99))
        let records = try store.agents()
        #expect(records.count == 4)
        #expect(records.first { $0.id == "db-1" } == agent("db-1", connected: false, lastSeen: 99))
    }

    @Test("agents survive reopening", arguments: StoreFactory.all)
    func reopen(_ factory: StoreFactory) throws {
        let database = try factory.makeDatabase()
        try database.open().save(agent("a1"))
        #expect(try database.open().agents() == [agent("a1")])
    }
}
