import Synchronization

/// An async channel from many senders to one receiver that holds at most `capacity` units (bytes,
/// messages: `cost` decides): a sender waits while it is full, so a fast producer slows down to
/// the pace of the receiver instead of growing memory. Finishing it wakes everyone.
public final class BoundedChannel<Element: Sendable>: Sendable {
    private struct State {
        var buffer: [Element] = []
        var head = 0
        var used = 0
        var finished = false
        var receiver: CheckedContinuation<Element?, Never>?
        /// Senders waiting for room, with what they bring.
        var waiting: [(element: Element, resume: CheckedContinuation<Bool, Never>)] = []
    }

    private let state = Mutex(State())
    public let capacity: Int
    private let cost: @Sendable (Element) -> Int

    public init(capacity: Int, cost: @escaping @Sendable (Element) -> Int = { _ in 1 }) {
        self.capacity = Swift.max(1, capacity)
        self.cost = cost
    }

    /// Units held now.
    public var used: Int { state.withLock { $0.used } }

    /// Sends `element`, waiting while the channel is full. False when it was finished.
    @discardableResult
    public func send(_ element: Element) async -> Bool {
        let weight = cost(element)
        // nil: full, wait for room.
        let sent: Bool? = state.withLock { state in
            if state.finished { return false }
            if let receiver = state.receiver {
                state.receiver = nil
                receiver.resume(returning: element)
                return true
            }
            if state.used < capacity && state.waiting.isEmpty {
                state.buffer.append(element)
                state.used += weight
                return true
            }
            return nil
        }
        if let sent { return sent }
        return await withCheckedContinuation { continuation in
            let immediate: Bool? = state.withLock { state in
                if state.finished { return false }
                if state.used < capacity && state.waiting.isEmpty {
                    state.buffer.append(element)
                    state.used += weight
                    return true
                }
                state.waiting.append((element, continuation))
                return nil
            }
            if let immediate { continuation.resume(returning: immediate) }
        }
    }

    /// Sends without waiting; false when the channel is full or finished.
    @discardableResult
    public func trySend(_ element: Element) -> Bool {
        let weight = cost(element)
        return state.withLock { state in
            if state.finished { return false }
            if let receiver = state.receiver {
                state.receiver = nil
                receiver.resume(returning: element)
                return true
            }
            guard state.used < capacity, state.waiting.isEmpty else { return false }
            state.buffer.append(element)
            state.used += weight
            return true
        }
    }

    /// The next element, waiting for one; nil once finished and empty.
    public func next() async -> Element? {
        await withCheckedContinuation { continuation in
            let ready: Element?? = state.withLock { state in
                if state.head < state.buffer.count {
                    let element = state.buffer[state.head]
                    state.head += 1
                    state.used -= cost(element)
                    // Compact once the consumed prefix is the larger part: amortised O(1).
                    if state.head * 2 >= state.buffer.count {
                        state.buffer.removeFirst(state.head)
                        state.head = 0
                    }
                    admitWaiting(&state)
                    return .some(element)
                }
                if state.finished { return .some(nil) }
                state.receiver = continuation
                return .none
            }
            if case .some(let element) = ready { continuation.resume(returning: element) }
        }
    }

    /// Moves waiting senders into the buffer while there is room, in order.
    private func admitWaiting(_ state: inout State) {
        while state.used < capacity, !state.waiting.isEmpty {
            let (element, resume) = state.waiting.removeFirst()
            state.buffer.append(element)
            state.used += cost(element)
            resume.resume(returning: true)
        }
    }

    /// No more elements: the receiver gets what is buffered, then nil; waiting senders get false.
    public func finish() {
        state.withLock { state in
            state.finished = true
            for waiter in state.waiting { waiter.resume.resume(returning: false) }
            state.waiting = []
            if state.head >= state.buffer.count, let receiver = state.receiver {
                state.receiver = nil
                receiver.resume(returning: nil)
            }
        }
    }
}

extension BoundedChannel: AsyncSequence {
    public struct AsyncIterator: AsyncIteratorProtocol {
        let channel: BoundedChannel
        public mutating func next() async -> Element? { await channel.next() }
    }

    public func makeAsyncIterator() -> AsyncIterator { AsyncIterator(channel: self) }
}
