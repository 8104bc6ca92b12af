import Foundation
import Logging
import MeeseeksConfig
import MeeseeksCore
import MeeseeksSlack
import Synchronization
import Testing

/// An outbox store that only keeps what is queued, for looking at it.
final class QueuedMessages: OutboxStore {
    let queued = Mutex<[OutboxMessage]>([])

    var messages: [OutboxMessage] { queued.withLock { $0 } }

    func enqueue(_ message: OutboxMessage) throws -> Int64 {
        queued.withLock { queued in
            var message = message
            message.id = Int64(queued.count + 1)
            queued.append(message)
            return message.id
        }
    }
    func outboxHeads(limit: Int) throws -> [OutboxMessage] { [] }
    func nextPending(orderKey: String) throws -> OutboxMessage? { nil }
    func markDelivered(_ id: Int64) throws {}
    func markFailed(_ id: Int64, error: String) throws {}
    func reschedule(_ id: Int64, notBefore: Double, attempts: Int, error: String) throws {}
    func outboxDepth() throws -> Int { messages.count }
    func messageReference(_ key: String) throws -> (channel: String, ts: String)? { nil }
    func setMessageReference(_ key: String, channel: String, ts: String) throws {}
}

struct NoDialogs: SlackDialogHost, EventLedger {
    func openDialog(id: String, user: String, channel: String?, text: String, transport: [String: String]) async {}
    func handle(dialogID: String, user: String, input: DialogInput, transport: [String: String]) async -> SlackDialogAnswer { .notFound }
    func decide(jobID: Int64, user: String, approve: Bool, reason: String?) async -> String { "there is no job #\(jobID)" }
    func persona() -> Persona { .mrMeeseeks }
    func firstSighting(ofEvent id: String, at time: Double, forgetBefore: Double) throws -> Bool { true }
}

@Suite("Long results are followed by their whole output as a file")
struct FileUploadTests {
    static let logger = Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() })

    /// A Slack service whose outbox is never delivered (nothing runs it), and the queue it fills.
    static func service() -> (SlackService, QueuedMessages) {
        let store = QueuedMessages()
        let api = SlackWebAPI(baseURL: "http://127.0.0.1:9/api/", botToken: "xoxb-test", appToken: nil)
        let outbox = SlackOutbox(store: store, api: api, logger: logger)
        return (SlackService(host: NoDialogs(), api: api, outbox: outbox, ledger: NoDialogs(), logger: logger), store)
    }

    static func dialog(thread: String?) -> Dialog {
        var dialog = Dialog(id: "d1", user: "U1", channel: "C1", now: 0)
        dialog.transport = ["kind": "slack", "channel": "C1"]
        if let thread { dialog.transport["thread"] = thread }
        return dialog
    }

    static func result(output: String, truncated: Bool = false, perAgent: [JobReport.AgentResult] = []) -> DialogView {
        .result(
            .init(
                user: "U1",
                report: JobReport(jobID: 42, command: "dump", status: .succeeded, output: output, truncated: truncated, perAgent: perAgent))
        )
    }

    @Test("the payload names the job, the file and the thread, never the output, and reads back")
    func payload() throws {
        let upload = FileUpload(jobID: 42, filename: "job-42-output.txt", title: "Output of job #42 (dump)", thread: "1.5", threadOf: nil)
        let text = String(decoding: upload.payload(), as: UTF8.self)
        #expect(text == #"{"filename":"job-42-output.txt","job":42,"thread_ts":"1.5","title":"Output of job #42 (dump)"}"#)
        #expect(FileUpload(payload: upload.payload()) == upload)
        #expect(FileUpload(payload: Array(#"{"text":"hi","blocks":[]}"#.utf8)) == nil)
        #expect(upload.key == "upload:42")
    }

    @Test("a cut result queues the message, then one upload in the same channel order and thread")
    func cutResultQueuesAnUpload() throws {
        let (service, store) = Self.service()
        let output = String(repeating: "secret-free line\n", count: 2000)
        service.post(Self.result(output: String(output.suffix(2500)), truncated: true), in: Self.dialog(thread: "1.5"))
        let queued = store.messages
        #expect(queued.map(\.operation) == [.post, .upload])
        #expect(queued.map(\.orderKey) == ["C1", "C1"])
        #expect(queued[0].messageKey == "result:d1")
        let upload = try #require(FileUpload(payload: queued[1].payload))
        #expect(
            upload == FileUpload(jobID: 42, filename: "job-42-output.txt", title: "Output of job #42 (dump)", thread: "1.5", threadOf: nil))
        #expect(queued[1].messageKey == "upload:42")
        // The output stays in the job history: the payload is a few dozen bytes.
        #expect(queued[1].payload.count < 200)
        #expect(!String(decoding: queued[1].payload, as: UTF8.self).contains("line"))
    }

    @Test("outside a thread, the file joins the thread of the result message")
    func noThread() throws {
        let (service, store) = Self.service()
        service.post(Self.result(output: String(repeating: "x", count: 4000)), in: Self.dialog(thread: nil))
        let upload = try #require(FileUpload(payload: store.messages[1].payload))
        #expect(upload.thread == nil)
        #expect(upload.threadOf == store.messages[0].messageKey)
    }

    @Test("results that fit, broadcasts and other views upload nothing")
    func nothingToUpload() {
        let (service, store) = Self.service()
        let dialog = Self.dialog(thread: "1.5")
        service.post(Self.result(output: "short and sweet\n"), in: dialog)
        service.post(Self.result(output: String(repeating: "x", count: BlockKitRendererRoom.code)), in: dialog)
        let agents = [
            JobReport.AgentResult(agent: "a1", jobID: 43, status: .succeeded, exitCode: 0, output: String(repeating: "x", count: 9000))
        ]
        service.post(Self.result(output: "", truncated: false, perAgent: agents), in: dialog)
        service.post(.notice(.init(.info, String(repeating: "line\n", count: 2000))), in: dialog)
        #expect(store.messages.map(\.operation) == [.post, .post, .post, .post])
        #expect(store.messages.allSatisfy { $0.messageKey == nil })
    }

    @Test(
        "the renderer says when it cuts, and then points at the file",
        arguments: [
            ("short", false, false),
            (String(repeating: "x", count: BlockKitRendererRoom.code), false, false),
            (String(repeating: "x", count: BlockKitRendererRoom.code + 1), false, true),
            // Escaping makes text longer: 1000 '<' become 4000 characters.
            (String(repeating: "<", count: 1000), false, true),
            ("the end of a long output", true, true),
        ])
    func cuts(output: String, truncated: Bool, cut: Bool) {
        let renderer = BlockKitRenderer(phrases: .first(.mrMeeseeks))
        let report = JobReport(jobID: 7, command: "c", status: .succeeded, output: output, truncated: truncated)
        #expect(renderer.cutsOutput(report) == cut)
        let message = renderer.render(.result(.init(user: "U1", report: report)))
        let text = message.blocks[1]["text"]?["text"]?.string ?? ""
        #expect(text.contains("follows as a file") == cut)
        #expect(BlockKitLimits.violations(of: message.blocks, on: .message) == [])
    }
}

/// The code section's room without a note, as `BlockKitRenderer` counts it.
enum BlockKitRendererRoom {
    static let code = SlackLimits.sectionText - 6 - 60
}
