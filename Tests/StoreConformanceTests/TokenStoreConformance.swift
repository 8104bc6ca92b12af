import MeeseeksCore
import Testing

/// `TokenStore`: tokens by hash, names and hashes unique, revoked once.
@Suite("TokenStore conformance", .closesStores)
struct TokenStoreConformance {

    @Test("a token is found by its hash, and listed by name", arguments: StoreFactory.all)
    func saveAndFind(_ factory: StoreFactory) throws {
        let store = try factory.make()
        #expect(try store.tokens().isEmpty)
        let laptop = APIToken(name: "laptop", user: "U1", hash: "aa11", createdAt: 10.5)
        try store.saveToken(laptop)
        try store.saveToken(APIToken(name: "ci", user: "U2", hash: "bb22", createdAt: 20))
        try store.saveToken(APIToken(name: "Zed", user: "U2", hash: "cc33", createdAt: 30, revoked: true))
        #expect(try store.token(hash: "aa11") == laptop)
        #expect(try store.token(hash: "AA11") == nil)
        #expect(try store.token(hash: "") == nil)
        #expect(try store.tokens().map(\.name) == ["Zed", "ci", "laptop"])  // byte order
        #expect(try store.token(hash: "cc33")?.revoked == true)
    }

    @Test("names and hashes are unique: a second token with either is refused", arguments: StoreFactory.all)
    func unique(_ factory: StoreFactory) throws {
        let store = try factory.make()
        try store.saveToken(APIToken(name: "laptop", user: "U1", hash: "aa11", createdAt: 1))
        #expect(throws: (any Error).self) {
            try store.saveToken(APIToken(name: "laptop", user: "U2", hash: "ff00", createdAt: 2))
        }
        #expect(throws: (any Error).self) {
            try store.saveToken(APIToken(name: "phone", user: "U2", hash: "aa11", createdAt: 2))
        }
        #expect(try store.tokens() == [APIToken(name: "laptop", user: "U1", hash: "aa11", createdAt: 1)])
    }

    @Test("a token is revoked once; unknown names revoke nothing", arguments: StoreFactory.all)
    func revoke(_ factory: StoreFactory) throws {
        let store = try factory.make()
        try store.saveToken(APIToken(name: "laptop", user: "U1", hash: "aa11", createdAt: 1))
        try store.saveToken(APIToken(name: "phone", user: "U1", hash: "bb22", createdAt: 1))
        #expect(try store.revokeToken(name: "laptop"))
        #expect(try !store.revokeToken(name: "laptop"))
        #expect(try !store.revokeToken(name: "nobody"))
        #expect(try store.token(hash: "aa11")?.revoked == true)
        #expect(try store.token(hash: "bb22")?.revoked == false)
        #expect(try store.tokens().map(\.revoked) == [true, false])
    }
}
