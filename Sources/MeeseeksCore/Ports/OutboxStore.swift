/// A message waiting to be sent to a chat service, kept until it is delivered.
public struct OutboxMessage: Hashable, Sendable, Codable {
    public enum Operation: String, Hashable, Sendable, Codable {
        /// A new message; its timestamp is remembered under `messageKey`.
        case post
        /// Replace the message remembered under `messageKey` (post it if it never was).
        case update
        /// An update that a newer one makes pointless (a running job's progress): enqueuing it
        /// drops any still-pending progress of the same message, so a job printing faster than
        /// Slack can be updated never grows the outbox.
        case progress
        /// A message only the user sees.
        case ephemeral
        /// A file shared in the channel: the payload names what to read and where to share it
        /// (the adapter's own format), never the file's bytes.
        case upload
    }

    public var id: Int64
    /// Messages with the same key are delivered in order, one at a time (a Slack channel).
    public var orderKey: String
    public var operation: Operation
    /// The message as the chat service expects it (JSON), without channel or timestamp.
    public var payload: [UInt8]
    public var channel: String
    public var messageKey: String?
    public var attempts: Int
    /// Not before this time (seconds since 1970): backoff and `Retry-After`.
    public var notBefore: Double
    public var createdAt: Double

    public init(
        id: Int64 = 0, orderKey: String, operation: Operation, payload: [UInt8], channel: String, messageKey: String?,
        attempts: Int = 0, notBefore: Double = 0, createdAt: Double
    ) {
        self.id = id
        self.orderKey = orderKey
        self.operation = operation
        self.payload = payload
        self.channel = channel
        self.messageKey = messageKey
        self.attempts = attempts
        self.notBefore = notBefore
        self.createdAt = createdAt
    }
}

/// The persistent outbox: replies survive restarts and are delivered once, in order per key.
public protocol OutboxStore: Sendable {
    /// Queues a message (a `progress` replaces the pending progress of the same message).
    @discardableResult
    func enqueue(_ message: OutboxMessage) throws -> Int64
    /// The oldest undelivered message of each order key.
    func outboxHeads(limit: Int) throws -> [OutboxMessage]
    /// The oldest undelivered message of one order key: what a delivery chain sends next, read
    /// alone so catching up after an outage stays linear.
    func nextPending(orderKey: String) throws -> OutboxMessage?
    func markDelivered(_ id: Int64) throws
    /// Gives up on a message the service refused for good (kept for inspection).
    func markFailed(_ id: Int64, error: String) throws
    func reschedule(_ id: Int64, notBefore: Double, attempts: Int, error: String) throws
    func outboxDepth() throws -> Int
    /// The channel and timestamp of a posted message, by its key.
    func messageReference(_ key: String) throws -> (channel: String, ts: String)?
    func setMessageReference(_ key: String, channel: String, ts: String) throws
}
