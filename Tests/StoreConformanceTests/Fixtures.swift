import MeeseeksCore
import Synchronization
import Testing

/// A job as the dispatcher would store it.
func job(_ command: String = "hello", requester: String = "U1", agent: String? = nil, createdAt: Double = 1000) -> Job {
    Job(command: command, arguments: ["who": "world"], requester: requester, agent: agent, createdAt: createdAt)
}

/// A broadcast parent.
func broadcast(_ command: String = "hello", requester: String = "U1") -> Job {
    var parent = job(command, requester: requester)
    parent.isBroadcast = true
    return parent
}

extension JobQueueStore {
    /// Stores one job and returns it.
    @discardableResult
    func add(_ job: Job, secrets: JobSecrets? = nil) throws -> Job {
        try insert(job, children: [], secrets: secrets).0
    }

    /// Stores a job and starts it on `agent`: attempt 1, running.
    @discardableResult
    func addRunning(_ template: Job = job(), on agent: String = "a1", at time: Double = 1001) throws -> Job {
        let stored = try add(template)
        return try #require(try start(stored.id, agent: agent, at: time))
    }
}

/// The bytes of `text`.
func bytes(_ text: String) -> [UInt8] { Array(text.utf8) }

/// A sealer that remembers the context of every seal and open, around the test key.
final class RecordingSealer: SecretSealer {
    private let inner: any SecretSealer
    private let log = Mutex<[String]>([])

    init(_ inner: any SecretSealer = testSealer) {
        self.inner = inner
    }

    /// "seal CONTEXT" and "open CONTEXT", in order.
    var calls: [String] { log.withLock { $0 } }

    func seal(_ plaintext: [UInt8], context: String) throws -> [UInt8] {
        log.withLock { $0.append("seal \(context)") }
        return try inner.seal(plaintext, context: context)
    }

    func open(_ sealed: [UInt8], context: String) throws(SealError) -> [UInt8] {
        log.withLock { $0.append("open \(context)") }
        return try inner.open(sealed, context: context)
    }
}
