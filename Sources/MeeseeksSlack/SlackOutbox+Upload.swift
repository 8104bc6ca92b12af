import Foundation
import Logging
import MeeseeksCore
import Metrics

extension SlackOutbox {
    /// Attempts at reading the job history before an upload is given up: a history that cannot
    /// be read must not hold the channel's later messages back for ever.
    static let outputReadAttempts = 5

    /// Shares a job's whole output as a file through Slack's three steps: `files.getUploadURLExternal`
    /// (name and length), the bytes POSTed to the URL it returns, then `files.completeUploadExternal`,
    /// which shares the file in the channel or thread. The output is read from the job history
    /// now, at most `jobs.output_limit` bytes.
    ///
    /// A retry starts over with a new URL (Slack discards a file that is never completed). A job
    /// whose output was already shared is not shared again. A refusal is logged and counted, and
    /// the channel's later messages go on.
    func deliverUpload(_ message: OutboxMessage) async {
        guard let upload = FileUpload(payload: message.payload) else {
            return refuse(message, step: "outbox", "the payload is not an upload", job: nil)
        }
        if lookUp({ try store.messageReference(upload.key) }) != nil {
            logger.info("job output already shared as a file; not shared twice", metadata: ["job": "\(upload.jobID)"])
            persist("markDelivered") { try store.markDelivered(message.id) }
            return
        }
        guard let outputs else {
            return refuse(message, step: "history", "no job history to read the output from", job: upload.jobID)
        }
        let bytes: [UInt8]
        do {
            guard let output = try outputs.output(ofJob: upload.jobID, limit: outputs.outputLimit()) else {
                return refuse(message, step: "history", "the job is not in the history", job: upload.jobID)
            }
            bytes = output
        } catch {
            guard message.attempts + 1 < Self.outputReadAttempts else {
                return refuse(message, step: "history", "the output cannot be read: \(error)", job: upload.jobID)
            }
            return settle(message, method: "history", .retry(reason: "the output cannot be read: \(error)", after: nil))
        }
        guard !bytes.isEmpty else {
            logger.info("job output is empty; no file to share", metadata: ["job": "\(upload.jobID)"])
            persist("markDelivered") { try store.markDelivered(message.id) }
            return
        }

        let ticket = await api.call(
            "files.getUploadURLExternal", ["filename": .string(upload.filename), "length": .string(String(bytes.count))], form: true)
        guard case .ok(let granted) = ticket else { return finish(message, step: "files.getUploadURLExternal", ticket, job: upload.jobID) }
        guard let url = granted["upload_url"]?.string, let fileID = granted["file_id"]?.string else {
            return refuse(message, step: "files.getUploadURLExternal", "no upload_url or file_id in the answer", job: upload.jobID)
        }

        let sent = await api.upload(bytes, to: url)
        guard case .ok = sent else { return finish(message, step: "upload", sent, job: upload.jobID) }

        var share: JSON = ["files": [["id": .string(fileID), "title": .string(upload.title)]], "channel_id": .string(message.channel)]
        // The dialog's thread, or the thread of the result message posted just before.
        if let thread = upload.thread ?? upload.threadOf.flatMap({ key in lookUp { try store.messageReference(key) } })?.ts {
            share["thread_ts"] = .string(thread)
        }
        let shared = await api.call("files.completeUploadExternal", share, form: true)
        if case .ok = shared {
            persist("setMessageReference") { try store.setMessageReference(upload.key, channel: message.channel, ts: fileID) }
            MetricCache.counter("meeseeks_slack_uploads_total", [("outcome", "shared")]).increment()
            logger.info(
                "job output shared as a file",
                metadata: ["job": "\(upload.jobID)", "bytes": "\(bytes.count)", "file_id": "\(fileID)", "channel": "\(message.channel)"])
        }
        finish(message, step: "files.completeUploadExternal", shared, job: upload.jobID)
    }

    /// A step's outcome: a refusal ends the upload, anything else is settled as for messages.
    private func finish(_ message: OutboxMessage, step: String, _ outcome: SlackWebAPI.Outcome, job: Int64) {
        if case .refused(let error, _) = outcome {
            refuse(message, step: step, error, job: job)
        } else {
            settle(message, method: step, outcome)
        }
    }

    /// Gives an upload up for good: logged, counted, kept as failed in the outbox.
    private func refuse(_ message: OutboxMessage, step: String, _ error: String, job: Int64?) {
        MetricCache.counter("meeseeks_slack_uploads_total", [("outcome", "refused")]).increment()
        logger.error(
            "a job's output could not be shared as a file",
            metadata: ["step": "\(step)", "error": "\(error)", "job": "\(job.map(String.init) ?? "?")", "outbox_id": "\(message.id)"])
        persist("markFailed") { try store.markFailed(message.id, error: "\(step): \(error)") }
    }
}
