import Foundation
public import MeeseeksCore

/// What the Slack adapter reads from the box to attach a job's whole output as a file. The output
/// is read when the upload is delivered, from the box's job history; it is never copied into the
/// outbox.
///
/// ```swift
/// let limit = outputs.outputLimit()
/// guard let bytes = try outputs.output(ofJob: 42, limit: limit) else { return }  // the job is gone
/// ```
public protocol SlackJobOutputs: Sendable {
    /// `jobs.output_limit`: the most bytes of a job's output the box keeps, and so the most a
    /// file holds.
    func outputLimit() -> Int
    /// At most `limit` bytes of what job `id` printed, from the start, exactly as the box's history
    /// keeps them; nil if the history has no such job (never started, or purged).
    /// - Throws: when the history cannot be read.
    func output(ofJob id: Int64, limit: Int) throws -> [UInt8]?
}

/// An upload waiting in the outbox (`OutboxMessage.Operation.upload`): which job's output, under
/// which name, shared in which thread. The bytes are not in it.
///
/// The file goes to the dialog's thread, or, for a dialog with none (a slash command, a direct
/// message), to the thread of the result message posted just before it, found by that message's
/// key once it was delivered.
public struct FileUpload: Hashable, Sendable, Codable {
    public var jobID: Int64
    public var filename: String
    public var title: String
    /// The thread to share the file in.
    public var thread: String?
    /// Without `thread`: the key of the posted message whose thread the file joins.
    public var threadOf: String?

    enum CodingKeys: String, CodingKey {
        case jobID = "job"
        case filename, title
        case thread = "thread_ts"
        case threadOf = "thread_of"
    }

    public init(jobID: Int64, filename: String, title: String, thread: String?, threadOf: String?) {
        self.jobID = jobID
        self.filename = filename
        self.title = title
        self.thread = thread
        self.threadOf = threadOf
    }

    /// The whole output of a job whose result message showed only its end.
    public init(wholeOutputOf report: JobReport, thread: String?, threadOf: String?) {
        self.init(
            jobID: report.jobID, filename: "job-\(report.jobID)-output.txt", title: "Output of job #\(report.jobID) (\(report.command))",
            thread: thread, threadOf: threadOf)
    }

    /// The key under which a shared file is remembered (as a message reference, with the file id
    /// in place of a timestamp): one upload per job, even if the same upload were queued or
    /// delivered twice.
    public var key: String { Self.key(job: jobID) }

    public static func key(job: Int64) -> String { "upload:\(job)" }

    /// The outbox payload (JSON).
    public func payload() -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        // Strings and numbers only: encoding cannot fail; an empty payload would be refused as
        // not an upload when delivered.
        return Array((try? encoder.encode(self)) ?? Data())
    }

    /// Reads an outbox payload; nil if it is not an upload.
    public init?(payload: [UInt8]) {
        // Not an upload's JSON: the caller fails that outbox row with a reason.
        guard let upload = try? JSONDecoder().decode(Self.self, from: Data(payload)) else { return nil }
        self = upload
    }
}
