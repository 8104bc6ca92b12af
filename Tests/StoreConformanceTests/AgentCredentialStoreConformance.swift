import MeeseeksCore
import MeeseeksLabels
import Testing

/// `AgentCredentialStore`: one unrevoked credential per agent id, revocations numbered in order.
@Suite("AgentCredentialStore conformance", .closesStores)
struct AgentCredentialStoreConformance {
    static func credential(_ id: String, hash: String, commands: [String]? = nil, at time: Double = 1) -> AgentCredential {
        AgentCredential(agentID: id, labels: LabelSet(["env": "prd", "role": "web"]), commands: commands, hash: hash, createdAt: time)
    }

    @Test("a credential reads back whole; one unrevoked per id; listed by id", arguments: StoreFactory.all)
    func saveAndRead(_ factory: StoreFactory) throws {
        let store = try factory.make()
        #expect(try store.credentials().isEmpty)
        #expect(try store.credential(agentID: "web1") == nil)
        let web1 = Self.credential("web1", hash: "aa", commands: ["nap", "deploy-*"], at: 10.5)
        try store.saveCredential(web1)
        try store.saveCredential(Self.credential("db1", hash: "bb"))
        #expect(try store.credential(agentID: "web1") == web1)
        #expect(try store.credential(agentID: "db1")?.commands == nil)
        #expect(try store.credential(agentID: "WEB1") == nil)
        #expect(throws: (any Error).self) { try store.saveCredential(Self.credential("web1", hash: "cc")) }
        #expect(try store.credentials().map(\.agentID) == ["db1", "web1"])
    }

    @Test("revoked once, numbered in order; a revoked id may be enrolled again", arguments: StoreFactory.all)
    func revoke(_ factory: StoreFactory) throws {
        let store = try factory.make()
        try store.saveCredential(Self.credential("web1", hash: "aa"))
        try store.saveCredential(Self.credential("web2", hash: "bb"))
        let before = try store.revokedCredentials(after: 0)
        #expect(before.agentIDs.isEmpty && before.newest == 0)
        #expect(try store.revokeCredential(agentID: "web2"))
        #expect(try !store.revokeCredential(agentID: "web2"))
        #expect(try !store.revokeCredential(agentID: "nobody"))
        #expect(try store.revokeCredential(agentID: "web1"))
        let all = try store.revokedCredentials(after: 0)
        #expect(all.agentIDs == ["web2", "web1"])
        let later = try store.revokedCredentials(after: all.newest)
        #expect(later.agentIDs.isEmpty && later.newest == all.newest)
        #expect(try store.credential(agentID: "web1") == nil)
        // Enrolled again: a new credential; the old one is listed as revoked.
        try store.saveCredential(Self.credential("web1", hash: "cc", at: 5))
        #expect(try store.credential(agentID: "web1")?.hash == "cc")
        #expect(try store.credentials().filter { $0.agentID == "web1" }.map(\.revoked).sorted { !$0 && $1 } == [false, true])
    }
}
