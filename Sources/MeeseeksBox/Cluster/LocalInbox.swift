import MeeseeksCore

/// The inbox of a box alone (SQLite): Slack's requests are written to it before they are
/// acknowledged, and carried out from it by the same processor a cluster's leader runs. With no
/// other box to notify, a post wakes the processor in-process.
struct LocalInbox: InboxStore {
    let store: any InboxStore
    let wakes: ChangeSignal<Int>

    func post(_ request: InboxRequest) throws -> Int64? {
        let id = try store.post(request)
        wakes.changed(0)
        return id
    }

    func claim(for lease: Lease, limit: Int) throws -> [InboxRequest] { try store.claim(for: lease, limit: limit) }
    func answer(_ id: Int64, response: [UInt8], lease: Lease) throws { try store.answer(id, response: response, lease: lease) }
    func response(of id: Int64) throws -> [UInt8]? { try store.response(of: id) }
    func purgeAnswered(before time: Double) throws -> Int { try store.purgeAnswered(before: time) }

    /// The claims of this run: larger than any earlier run's (its start time in milliseconds), so
    /// what a run killed before answering had claimed is claimed again.
    static func lease(startedAt time: Double) -> Lease {
        Lease(member: "box", epoch: Int64(min(max(0, time * 1000), 9e15)))
    }
}
