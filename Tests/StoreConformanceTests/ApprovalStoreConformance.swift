import MeeseeksCore
import Testing

/// `ApprovalStore`, and `JobQueueStore.release`: a job waits for approval outside the queue, one
/// decision per person, and ends or is queued once.
@Suite("ApprovalStore conformance", .closesStores)
struct ApprovalStoreConformance {
    func awaiting(_ store: any BoxStore, broadcastTo agents: [String] = []) throws -> (Job, [Job]) {
        var template = agents.isEmpty ? job("deploy") : broadcast("deploy")
        template.status = .awaitingApproval
        let children = agents.map { agent -> Job in
            var child = job("deploy", agent: agent)
            child.status = .awaitingApproval
            return child
        }
        return try store.insert(template, children: children, secrets: JobSecrets(code: "123456"))
    }

    @Test("a job awaiting approval is stored so, is not queued, and is queued once released", arguments: StoreFactory.all)
    func release(_ factory: StoreFactory) throws {
        let store = try factory.make()
        let (waiting, _) = try awaiting(store)
        #expect(try store.job(waiting.id)?.status == .awaitingApproval)
        #expect(try store.queued(after: 0, limit: 10).isEmpty)
        #expect(try store.queueStats().depth == 0)
        #expect(try store.start(waiting.id, agent: "a1", at: 1) == nil)
        #expect(try store.jobs(JobQuery(statuses: [.awaitingApproval])).map(\.id) == [waiting.id])
        #expect(try store.release(waiting.id))
        #expect(try !store.release(waiting.id))
        #expect(try store.queued(after: 0, limit: 10).map(\.id) == [waiting.id])
        // Its secrets were kept while it waited.
        #expect(try store.secrets(of: waiting.id)?.code == "123456")
        let queued = try store.add(job())
        #expect(try !store.release(queued.id))
    }

    @Test("a broadcast is released with its sub-jobs, and ends with them", arguments: StoreFactory.all)
    func broadcastRelease(_ factory: StoreFactory) throws {
        let store = try factory.make()
        let (parent, children) = try awaiting(store, broadcastTo: ["a1", "a2"])
        #expect(try store.release(parent.id))
        #expect(try children.map { try store.job($0.id)?.status } == [.queued, .queued])
        let (other, otherChildren) = try awaiting(store, broadcastTo: ["a1"])
        let denied = JobOutcome(status: .denied, reason: "denied by U2: no")
        #expect(try store.finish(otherChildren[0].id, attempt: nil, outcome: denied, at: 5)?.status == .denied)
        let ended = try #require(try store.finish(other.id, attempt: nil, outcome: denied, at: 5))
        #expect(ended.status == .denied && ended.reason == "denied by U2: no" && ended.finishedAt == 5)
        #expect(try store.secrets(of: other.id) == nil)
        #expect(try !store.release(other.id))
        // A broadcast that ended before its sub-jobs did: nothing of it is released.
        let (cut, cutChildren) = try awaiting(store, broadcastTo: ["a1", "a2"])
        _ = try store.finish(cut.id, attempt: nil, outcome: denied, at: 6)
        #expect(try !store.release(cut.id))
        #expect(try cutChildren.map { try store.job($0.id)?.status } == [.awaitingApproval, .awaitingApproval])
    }

    @Test("each person decides once per job; decisions read back oldest first", arguments: StoreFactory.all)
    func decisions(_ factory: StoreFactory) throws {
        let store = try factory.make()
        let (first, _) = try awaiting(store)
        let (second, _) = try awaiting(store)
        #expect(try store.decisions(on: first.id).isEmpty)
        #expect(try store.recordDecision(ApprovalDecision(jobID: first.id, approver: "U2", approved: true, at: 10)))
        #expect(
            try !store.recordDecision(ApprovalDecision(jobID: first.id, approver: "U2", approved: false, reason: "changed my mind", at: 11))
        )
        #expect(
            try store.recordDecision(ApprovalDecision(jobID: first.id, approver: "U3", approved: false, reason: "not today, ü", at: 12)))
        #expect(try store.recordDecision(ApprovalDecision(jobID: second.id, approver: "U2", approved: true, at: 13)))
        #expect(
            try store.decisions(on: first.id) == [
                ApprovalDecision(jobID: first.id, approver: "U2", approved: true, at: 10),
                ApprovalDecision(jobID: first.id, approver: "U3", approved: false, reason: "not today, ü", at: 12),
            ])
        #expect(try store.decisions(on: second.id).map(\.approver) == ["U2"])
        #expect(throws: (any Error).self) { try store.recordDecision(ApprovalDecision(jobID: 999, approver: "U2", approved: true, at: 1)) }
    }

    @Test("decisions go with their job when history is purged", arguments: StoreFactory.all)
    func purge(_ factory: StoreFactory) throws {
        let store = try factory.make()
        let (waiting, _) = try awaiting(store)
        #expect(try store.recordDecision(ApprovalDecision(jobID: waiting.id, approver: "U2", approved: false, reason: "no", at: 10)))
        _ = try store.finish(waiting.id, attempt: nil, outcome: JobOutcome(status: .denied, reason: "no"), at: 1001)
        #expect(try store.purge(before: 5000) == 1)
        #expect(try store.decisions(on: waiting.id).isEmpty)
    }
}
