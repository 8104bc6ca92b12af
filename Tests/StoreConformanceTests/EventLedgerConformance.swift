import MeeseeksCore
import Testing

/// `EventLedger`: an inbound event id is new once, until it is forgotten.
@Suite("EventLedger conformance", .closesStores)
struct EventLedgerConformance {

    @Test("an id is new once; others are new on their own", arguments: StoreFactory.all)
    func firstSighting(_ factory: StoreFactory) throws {
        let store = try factory.make()
        #expect(try store.firstSighting(ofEvent: "Ev1", at: 100, forgetBefore: 0))
        #expect(try !store.firstSighting(ofEvent: "Ev1", at: 101, forgetBefore: 0))
        #expect(try store.firstSighting(ofEvent: "Ev2", at: 101, forgetBefore: 0))
        #expect(try store.firstSighting(ofEvent: "ev1", at: 102, forgetBefore: 0))  // ids are exact
    }

    @Test(
        "ids first seen before forgetBefore are dropped, and new again; a repeat does not renew them",
        arguments: StoreFactory.all)
    func forgetting(_ factory: StoreFactory) throws {
        let store = try factory.make()
        #expect(try store.firstSighting(ofEvent: "Ev1", at: 100, forgetBefore: 0))
        #expect(try store.firstSighting(ofEvent: "Ev2", at: 150, forgetBefore: 0))
        #expect(try !store.firstSighting(ofEvent: "Ev1", at: 190, forgetBefore: 0))  // a retry: still seen at 100
        #expect(try !store.firstSighting(ofEvent: "Ev1", at: 200, forgetBefore: 100))  // seen at exactly 100: kept
        #expect(try store.firstSighting(ofEvent: "Ev1", at: 300, forgetBefore: 101))  // forgotten: new, seen at 300
        #expect(try store.firstSighting(ofEvent: "Ev2", at: 310, forgetBefore: 200))
        #expect(try !store.firstSighting(ofEvent: "Ev1", at: 320, forgetBefore: 200))
    }

    @Test("sightings survive reopening", arguments: StoreFactory.all)
    func reopen(_ factory: StoreFactory) throws {
        let database = try factory.makeDatabase()
        #expect(try database.open().firstSighting(ofEvent: "Ev1", at: 100, forgetBefore: 0))
        let reopened = try database.open()
        #expect(try !reopened.firstSighting(ofEvent: "Ev1", at: 200, forgetBefore: 50))
        #expect(try reopened.firstSighting(ofEvent: "Ev2", at: 200, forgetBefore: 50))
        // An hour later Slack has long stopped retrying: the id is dropped, and new again.
        #expect(try reopened.firstSighting(ofEvent: "Ev1", at: 3800, forgetBefore: 200))
    }
}
