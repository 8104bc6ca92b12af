import Dispatch
import Synchronization

/// Output from a job's reading thread to its async reporter, holding at most `capacity` bytes.
/// The thread blocks while it is full, and the program then blocks on its pipe: back-pressure all
/// the way down, so a job that prints faster than it can be delivered never grows memory.
final class OutputBridge: Sendable {
    private struct State {
        var chunks: [[UInt8]] = []
        var bytes = 0
        var finished = false
        var producerWaiting = false
        var receiver: CheckedContinuation<[UInt8]?, Never>?
    }

    private let state = Mutex(State())
    private let space = DispatchSemaphore(value: 0)
    let capacity: Int

    init(capacity: Int) {
        self.capacity = max(1, capacity)
    }

    /// Hands a chunk over, blocking the calling thread while the bridge is full. Call it from
    /// a thread of its own, never from the cooperative pool.
    func put(_ chunk: [UInt8]) {
        guard !chunk.isEmpty else { return }
        while true {
            let taken = state.withLock { state -> Bool in
                if state.finished { return true }  // nobody reads any more: drop
                if let receiver = state.receiver {
                    state.receiver = nil
                    receiver.resume(returning: chunk)
                    return true
                }
                if state.bytes < capacity {
                    state.chunks.append(chunk)
                    state.bytes += chunk.count
                    return true
                }
                state.producerWaiting = true
                return false
            }
            if taken { return }
            space.wait()
        }
    }

    /// Everything buffered, joined into one chunk (fewer, larger reports), waiting for some;
    /// nil once finished and empty.
    func next() async -> [UInt8]? {
        await withCheckedContinuation { continuation in
            state.withLock { state in
                if !state.chunks.isEmpty {
                    let joined = state.chunks.count == 1 ? state.chunks[0] : Array(state.chunks.joined())
                    state.chunks = []
                    state.bytes = 0
                    if state.producerWaiting {
                        state.producerWaiting = false
                        space.signal()
                    }
                    continuation.resume(returning: joined)
                } else if state.finished {
                    continuation.resume(returning: nil)
                } else {
                    state.receiver = continuation
                }
            }
        }
    }

    /// No more output: the reader gets what is buffered, then nil; a blocked producer is released.
    func finish() {
        state.withLock { state in
            state.finished = true
            if state.producerWaiting {
                state.producerWaiting = false
                space.signal()
            }
            if state.chunks.isEmpty, let receiver = state.receiver {
                state.receiver = nil
                receiver.resume(returning: nil)
            }
        }
    }
}

/// The per-job output limit applied where the job runs: the first `limit` bytes go on, the rest
/// is counted and dropped, and the end says how much was cut.
final class OutputLimiter: Sendable {
    private let counts = Mutex<(kept: Int, dropped: Int)>((0, 0))
    let limit: Int

    init(limit: Int) {
        self.limit = max(0, limit)
    }

    /// The part of `chunk` still within the limit.
    func admit(_ chunk: [UInt8]) -> [UInt8] {
        counts.withLock { counts in
            let room = max(0, limit - counts.kept)
            if room >= chunk.count {
                counts.kept += chunk.count
                return chunk
            }
            counts.kept += room
            counts.dropped &+= chunk.count - room
            return Array(chunk.prefix(room))
        }
    }

    /// The truncation marker, when anything was dropped.
    var marker: [UInt8]? {
        let dropped = counts.withLock { $0.dropped }
        guard dropped > 0 else { return nil }
        return Array(
            "\n[… output truncated: this job printed more than \(limit) bytes; \(dropped) more were dropped where it ran …]\n".utf8)
    }
}
