import Foundation
public import MeeseeksCore

/// The chat outbox and the messages it posted.
extension InMemoryStore: OutboxStore {

    @discardableResult
    public func enqueue(_ message: OutboxMessage) throws -> Int64 {
        write { state in
            // A newer progress makes a pending one pointless.
            if message.operation == .progress, let key = message.messageKey {
                state.outbox.removeAll { $0.state == .pending && $0.message.operation == .progress && $0.message.messageKey == key }
            }
            state.lastOutboxID += 1
            var message = message
            message.id = state.lastOutboxID
            state.outbox.append(OutboxRow(message: message))
            return message.id
        }
    }

    public func outboxHeads(limit: Int) throws -> [OutboxMessage] {
        read { state in
            var seen: Set<String> = []
            var heads: [OutboxMessage] = []
            for row in state.outbox where row.state == .pending && seen.insert(row.message.orderKey).inserted {
                heads.append(row.message)
            }
            return Array(heads.prefix(limit.sqliteLimit))
        }
    }

    public func nextPending(orderKey: String) throws -> OutboxMessage? {
        read { state in state.outbox.first { $0.state == .pending && $0.message.orderKey == orderKey }?.message }
    }

    public func markDelivered(_ id: Int64) throws {
        update(id) { row in
            row.state = .delivered
            row.lastError = nil
        }
    }

    public func markFailed(_ id: Int64, error: String) throws {
        update(id) { row in
            row.state = .failed
            row.lastError = error
        }
    }

    public func reschedule(_ id: Int64, notBefore: Double, attempts: Int, error: String) throws {
        update(id) { row in
            row.message.notBefore = notBefore
            row.message.attempts = attempts
            row.lastError = error
        }
    }

    private func update(_ id: Int64, _ change: (inout OutboxRow) -> Void) {
        write { state in
            let index = state.outbox.partitionPoint { $0.message.id >= id }
            guard index < state.outbox.count, state.outbox[index].message.id == id else { return }
            change(&state.outbox[index])
        }
    }

    public func outboxDepth() throws -> Int {
        read { state in state.outbox.count { $0.state == .pending } }
    }

    public func messageReference(_ key: String) throws -> (channel: String, ts: String)? {
        read { state in state.messageRefs[key].map { ($0.channel, $0.ts) } }
    }

    public func setMessageReference(_ key: String, channel: String, ts: String) throws {
        write { $0.messageRefs[key] = (channel, ts, Date().timeIntervalSince1970) }
    }
}

/// Inbound events already taken.
extension InMemoryStore: EventLedger {

    public func firstSighting(ofEvent id: String, at time: Double, forgetBefore: Double) throws -> Bool {
        write { state in
            state.events = state.events.filter { $0.value >= forgetBefore }
            guard state.events[id] == nil else { return false }
            state.events[id] = time
            return true
        }
    }
}
