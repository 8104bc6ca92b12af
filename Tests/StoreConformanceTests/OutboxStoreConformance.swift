import MeeseeksCore
import Testing

/// `OutboxStore`: messages kept until delivered, in order per key; message references.
@Suite("OutboxStore conformance", .closesStores)
struct OutboxStoreConformance {

    func message(_ key: String, _ text: String, notBefore: Double = 0, createdAt: Double = 1) -> OutboxMessage {
        OutboxMessage(
            orderKey: key, operation: .post, payload: bytes(text), channel: key, messageKey: nil, notBefore: notBefore,
            createdAt: createdAt)
    }

    func texts(_ messages: [OutboxMessage]) -> [String] {
        messages.map { String(decoding: $0.payload, as: UTF8.self) }
    }

    @Test("messages are numbered from 1 and read back whole", arguments: StoreFactory.all)
    func roundTrip(_ factory: StoreFactory) throws {
        let store = try factory.make()
        let update = OutboxMessage(
            id: 77, orderKey: "C1", operation: .update, payload: [0, 255, 10] + bytes("{\"text\":\"ü\"}"),
            channel: "C1",
            messageKey: "dialog:d1", attempts: 2, notBefore: 12.5, createdAt: 10.25)
        #expect(try store.enqueue(update) == 1)  // the given id is ignored
        #expect(
            try store.enqueue(
                OutboxMessage(
                    orderKey: "U1", operation: .ephemeral, payload: [], channel: "C2", messageKey: nil, createdAt: 11))
                == 2)
        var expected = update
        expected.id = 1
        #expect(try store.nextPending(orderKey: "C1") == expected)
        #expect(try store.nextPending(orderKey: "U1")?.operation == .ephemeral)
        #expect(try store.nextPending(orderKey: "C3") == nil)
    }

    @Test("every operation reads back as the same operation", arguments: StoreFactory.all)
    func everyOperation(_ factory: StoreFactory) throws {
        let store = try factory.make()
        let operations: [OutboxMessage.Operation] = [.post, .update, .progress, .ephemeral, .upload]
        for operation in operations {
            try store.enqueue(
                OutboxMessage(
                    orderKey: "\(operation)", operation: operation, payload: bytes("x"), channel: "C1", messageKey: "m",
                    createdAt: 1))
        }
        #expect(try store.outboxHeads(limit: 10).map(\.operation) == operations)
    }

    @Test("a progress replaces the pending progress of the same message, and nothing else", arguments: StoreFactory.all)
    func progressReplacesProgress(_ factory: StoreFactory) throws {
        let store = try factory.make()
        func progress(_ text: String, key: String = "dialog:d1") -> OutboxMessage {
            OutboxMessage(orderKey: "C1", operation: .progress, payload: bytes(text), channel: "C1", messageKey: key, createdAt: 1)
        }
        try store.enqueue(message("C1", "result"))
        for n in 0..<50 { try store.enqueue(progress("tick \(n)")) }
        try store.enqueue(progress("other", key: "dialog:d2"))
        #expect(try store.outboxDepth() == 3)
        try store.markDelivered(1)
        #expect(texts([try #require(try store.nextPending(orderKey: "C1"))]) == ["tick 49"])
        // Once it is no longer pending (being delivered, delivered), a new one does not touch it.
        let head = try #require(try store.nextPending(orderKey: "C1"))
        try store.markDelivered(head.id)
        try store.enqueue(progress("tick 50"))
        #expect(try store.outboxDepth() == 2)
    }

    @Test(
        "heads are the oldest pending message of each key, by id, whatever their backoff", arguments: StoreFactory.all)
    func heads(_ factory: StoreFactory) throws {
        let store = try factory.make()
        #expect(try store.outboxHeads(limit: 10).isEmpty)
        try store.enqueue(message("C2", "a"))  // 1
        try store.enqueue(message("C1", "b", notBefore: 9999))  // 2: waiting, still the head
        try store.enqueue(message("C2", "c"))  // 3
        try store.enqueue(message("C3", "d"))  // 4
        try store.enqueue(message("C1", "e"))  // 5
        #expect(try texts(store.outboxHeads(limit: 10)) == ["a", "b", "d"])
        #expect(try texts(store.outboxHeads(limit: 2)) == ["a", "b"])
        #expect(try store.outboxHeads(limit: 0).isEmpty)
        #expect(try store.outboxDepth() == 5)
    }

    @Test("delivering or giving up on a head makes the next message of its key the head", arguments: StoreFactory.all)
    func advance(_ factory: StoreFactory) throws {
        let store = try factory.make()
        for (key, text) in [("C1", "a"), ("C2", "b"), ("C1", "c"), ("C1", "d")] {
            try store.enqueue(message(key, text))
        }
        try store.markDelivered(1)
        #expect(try texts(store.outboxHeads(limit: 10)) == ["b", "c"])
        #expect(try store.nextPending(orderKey: "C1")?.id == 3)
        try store.markFailed(3, error: "channel_not_found")
        #expect(try store.nextPending(orderKey: "C1")?.id == 4)
        #expect(try store.outboxDepth() == 2)
        try store.markDelivered(4)
        try store.markDelivered(2)
        #expect(try store.outboxHeads(limit: 10).isEmpty)
        #expect(try store.nextPending(orderKey: "C1") == nil)
        #expect(try store.outboxDepth() == 0)
        try store.markDelivered(99)  // unknown: nothing happens
        try store.markFailed(99, error: "x")
        try store.reschedule(99, notBefore: 1, attempts: 1, error: "x")
        #expect(try store.outboxDepth() == 0)
    }

    @Test("a rescheduled message keeps its place, with its new backoff and attempts", arguments: StoreFactory.all)
    func reschedule(_ factory: StoreFactory) throws {
        let store = try factory.make()
        let first = try store.enqueue(message("C1", "a"))
        try store.enqueue(message("C1", "b"))
        try store.reschedule(first, notBefore: 500.5, attempts: 3, error: "ratelimited")
        let head = try #require(try store.nextPending(orderKey: "C1"))
        #expect(head.id == first && head.notBefore == 500.5 && head.attempts == 3)
        #expect(try store.outboxHeads(limit: 10).map(\.id) == [first])
        #expect(try store.outboxDepth() == 2)
    }

    @Test("message references are set, replaced and read by key", arguments: StoreFactory.all)
    func references(_ factory: StoreFactory) throws {
        let store = try factory.make()
        #expect(try store.messageReference("dialog:x") == nil)
        try store.setMessageReference("dialog:x", channel: "C1", ts: "1.2")
        try store.setMessageReference("dialog:y", channel: "C2", ts: "3.4")
        #expect(try store.messageReference("dialog:x").map { [$0.channel, $0.ts] } == ["C1", "1.2"])
        try store.setMessageReference("dialog:x", channel: "C3", ts: "5.6")
        #expect(try store.messageReference("dialog:x").map { [$0.channel, $0.ts] } == ["C3", "5.6"])
        #expect(try store.messageReference("dialog:y").map { [$0.channel, $0.ts] } == ["C2", "3.4"])
    }

    @Test("the outbox and its references survive reopening", arguments: StoreFactory.all)
    func reopen(_ factory: StoreFactory) throws {
        let database = try factory.makeDatabase()
        let store = try database.open()
        for (key, text) in [("C1", "a"), ("C2", "b"), ("C1", "c")] { try store.enqueue(message(key, text)) }
        try store.markDelivered(1)
        try store.setMessageReference("dialog:x", channel: "C1", ts: "1.2")
        let reopened = try database.open()
        #expect(try texts(reopened.outboxHeads(limit: 10)) == ["b", "c"])
        #expect(try reopened.outboxDepth() == 2)
        #expect(try reopened.messageReference("dialog:x")?.ts == "1.2")
        #expect(try reopened.enqueue(message("C1", "d")) == 4)
    }
}
