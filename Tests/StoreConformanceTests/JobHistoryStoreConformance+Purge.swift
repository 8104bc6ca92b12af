import Foundation
import MeeseeksCore
import MeeseeksLabels
import Testing

/// `JobHistoryStore.purge`: old history goes; work in progress never does.
extension JobHistoryStoreConformance {

    @Test(
        "purging removes finished top-level jobs ended before the time, with their children and output",
        arguments: StoreFactory.all)
    func purgeJobs(_ factory: StoreFactory) throws {
        let store = try factory.make()
        let old = try store.addRunning(job(), at: 10)  // 1
        _ = try store.finish(old.id, attempt: 1, outcome: JobOutcome(status: .failed), at: 20)
        try store.appendOutput(old.id, bytes("old output"), limit: 100)
        let (parent, children) = try store.insert(
            broadcast(), children: [job(agent: "a1"), job(agent: "a2")], secrets: nil)  // 2 (3, 4)
        for child in children {
            _ = try store.start(child.id, agent: child.agent ?? "", at: 10)
            try store.appendOutput(child.id, bytes("child output"), limit: 100)
            _ = try store.finish(child.id, attempt: 1, outcome: JobOutcome(status: .succeeded), at: 30)
        }
        _ = try store.finish(parent.id, attempt: nil, outcome: JobOutcome(status: .succeeded), at: 30)
        let boundary = try store.add(job())  // 5: ended exactly at the time: kept
        _ = try store.finish(boundary.id, attempt: nil, outcome: JobOutcome(status: .cancelled), at: 100)
        let recent = try store.addRunning()  // 6
        _ = try store.finish(recent.id, attempt: 1, outcome: JobOutcome(status: .succeeded), at: 150)
        let queued = try store.add(job(createdAt: 1))  // 7
        let running = try store.addRunning(job(createdAt: 1), at: 2)  // 8
        try store.appendOutput(running.id, bytes("still running"), limit: 100)

        #expect(try store.purge(before: 100) == 2)  // top-level jobs only
        #expect(
            try store.jobs(JobQuery(oldestFirst: true)).map(\.id) == [boundary.id, recent.id, queued.id, running.id])
        for gone in [old.id, parent.id] + children.map(\.id) {
            #expect(try store.job(gone) == nil)
            #expect(try store.outputSize(gone) == 0 && store.output(gone, from: 0, limit: 100).isEmpty)
        }
        #expect(try store.output(running.id, from: 0, limit: 100) == bytes("still running"))
        #expect(try store.purge(before: 100) == 0)
        #expect(try store.purge(before: .infinity) == 2)  // boundary and recent; never queued or running ones
        #expect(try store.jobs(JobQuery(oldestFirst: true)).map(\.id) == [queued.id, running.id])
    }

    @Test("purging forgets the references of messages last set before the time", arguments: StoreFactory.all)
    func purgeMessageReferences(_ factory: StoreFactory) throws {
        let store = try factory.make()
        try store.setMessageReference("dialog:d1", channel: "C1", ts: "1.1")
        let now = Date().timeIntervalSince1970
        _ = try store.purge(before: now - 3600)
        #expect(try store.messageReference("dialog:d1")?.ts == "1.1")
        _ = try store.purge(before: now + 3600)
        #expect(try store.messageReference("dialog:d1") == nil)
    }

    @Test("ids are never reused after a purge", arguments: StoreFactory.all)
    func purgeKeepsIDs(_ factory: StoreFactory) throws {
        let store = try factory.make()
        for _ in 0..<3 {
            let done = try store.add(job())
            _ = try store.finish(done.id, attempt: nil, outcome: JobOutcome(status: .cancelled), at: 1)
        }
        #expect(try store.purge(before: 2) == 3)
        #expect(try store.add(job()).id == 4)
    }

    @Test(
        "purging removes dialogs saved, audit entries written and messages sent or given up before the time",
        arguments: StoreFactory.all)
    func purgeTheRest(_ factory: StoreFactory) throws {
        let store = try factory.make()
        try store.save(Dialog(id: "old", user: "U1", channel: "C1", now: 10))
        var oldWaiting = Dialog(id: "old-waiting", user: "U1", channel: "C1", now: 10)
        oldWaiting.phase = .confirming
        try store.save(oldWaiting)
        try store.save(Dialog(id: "new", user: "U1", channel: "C1", now: 100))
        try store.append(AuditRecord(action: .policyDenied, user: "U1", outcome: "denied"), at: 10)
        try store.append(AuditRecord(action: .policyAllowed, user: "U1", outcome: "allowed"), at: 100)
        func message(_ text: String, createdAt: Double) -> OutboxMessage {
            OutboxMessage(
                orderKey: "C1", operation: .post, payload: bytes(text), channel: "C1", messageKey: nil,
                createdAt: createdAt)
        }
        let delivered = try store.enqueue(message("delivered", createdAt: 10))
        let failed = try store.enqueue(message("failed", createdAt: 10))
        try store.enqueue(message("pending", createdAt: 10))
        let newDelivered = try store.enqueue(message("new delivered", createdAt: 100))
        try store.markDelivered(delivered)
        try store.markFailed(failed, error: "channel_not_found")
        try store.markDelivered(newDelivered)
        try store.setMessageReference("dialog:old", channel: "C1", ts: "1.1")
        try store.save(
            AgentRecord(
                id: "a1", hostname: "h", labels: [:], commands: [], slots: 1, version: "1", connected: false,
                lastSeen: 1))
        try store.saveToken(APIToken(name: "laptop", user: "U1", hash: "h1", createdAt: 1))
        #expect(try store.firstSighting(ofEvent: "Ev1", at: 10, forgetBefore: 0))

        #expect(try store.purge(before: 100) == 0)
        #expect(try store.dialog("old") == nil && store.dialog("old-waiting") == nil)
        #expect(try store.dialog("new")?.id == "new")
        #expect(try store.audit(AuditQuery()).map(\.time) == [100])
        #expect(try store.outboxDepth() == 1)
        #expect(try store.nextPending(orderKey: "C1").map { String(decoding: $0.payload, as: UTF8.self) } == "pending")
        // Not history: kept.
        #expect(try store.messageReference("dialog:old")?.ts == "1.1")
        #expect(try store.agents().map(\.id) == ["a1"])
        #expect(try store.token(hash: "h1")?.name == "laptop")
        #expect(try !store.firstSighting(ofEvent: "Ev1", at: 200, forgetBefore: 0))
    }
}
