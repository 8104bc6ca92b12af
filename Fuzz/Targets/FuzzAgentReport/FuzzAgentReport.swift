import Foundation
import FuzzSupport
import GRPCCore
import Logging
import MeeseeksConfig
import MeeseeksCore
import MeeseeksGRPC
import SwiftProtobuf
import Synchronization

/// An agent's stream as the box's agent service reads it: whatever a holder of the agent token
/// (or anyone, without it) sends after the transport has decoded the messages.
///
/// Input: a first byte choosing the bearer (the right token, none, a wrong one), then
/// length-delimited `AgentMessage`s (a varint length, then the message), as written on the stream.
/// The real `AgentService` runs the session against a host that keeps what a box would.
/// Checks: nothing crashes or hangs; nothing reaches the host before a valid, authenticated
/// registration; every report names the agent that registered; output offsets handed on are
/// non-negative and end below `Int.max`; a registration handed on is within the protocol's limits;
/// the first thing the box sends is `Registered` for that agent; a refusal is a status with a message.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzAgentReport(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let bytes = input(data, size)
    guard let choice = bytes.first else { return 0 }
    let messages = delimitedMessages(bytes.dropFirst())
    let host = FuzzHost()
    let sent = Sent()
    let done = DispatchSemaphore(value: 0)
    Task {
        defer { done.signal() }
        let service = AgentService(
            host: host, token: FuzzHost.token, logger: Logger(label: "fuzz", factory: { _ in SwiftLogNoOpLogHandler() }))
        var metadata = Metadata()
        switch choice % 3 {
        case 0: metadata.addString("Bearer \(FuzzHost.token)", forKey: "authorization")
        case 1: break  // the registration's own token field decides
        default: metadata.addString("Bearer wrong", forKey: "authorization")
        }
        let request = StreamingServerRequest(
            metadata: metadata,
            messages: RPCAsyncSequence(
                wrapping: AsyncThrowingStream { c in
                    for message in messages { c.yield(message) }
                    c.finish()
                }))
        do {
            let response = try await withServerContextRPCCancellationHandle { handle in
                let context = ServerContext(
                    descriptor: Meeseeks_Agent_V1_AgentService.Method.Connect.descriptor, remotePeer: "fuzz", localPeer: "box",
                    cancellation: handle)
                return try await service.connect(request: request, context: context)
            }
            let contents = try response.accepted.get()
            _ = try await contents.producer(RPCWriter(wrapping: Collector(sent)))
        } catch let error as RPCError {
            check(!error.message.isEmpty, "a refusal without a message: \(error)")
        } catch {
            fatalError("the session ended with an error that is not a status: \(error)")
        }
    }
    done.wait()
    host.checkEnd(sent: sent.messages.withLock { $0 })
    return 0
}

/// Length-delimited messages, up to the first that does not decode (the transport would end the
/// stream there). At most 64 messages of 64 KiB each, so an input stays quick.
func delimitedMessages(_ bytes: ArraySlice<UInt8>) -> [Meeseeks_Agent_V1_AgentMessage] {
    var messages: [Meeseeks_Agent_V1_AgentMessage] = []
    var rest = bytes
    while !rest.isEmpty, messages.count < 64 {
        var length = 0
        var shift = 0
        while let byte = rest.first, shift < 21 {
            rest = rest.dropFirst()
            length |= Int(byte & 0x7F) << shift
            shift += 7
            if byte & 0x80 == 0 { break }
        }
        guard length <= rest.count, length <= 65_536 else { break }
        guard let message = try? Meeseeks_Agent_V1_AgentMessage(serializedBytes: Array(rest.prefix(length))) else { break }
        messages.append(message)
        rest = rest.dropFirst(length)
    }
    return messages
}

/// What the box sent to the agent.
final class Sent: Sendable {
    let messages = Mutex<[Meeseeks_Agent_V1_BoxMessage]>([])
}

struct Collector: RPCWriterProtocol {
    let sent: Sent

    init(_ sent: Sent) { self.sent = sent }

    func write(_ element: Meeseeks_Agent_V1_BoxMessage) async throws { sent.messages.withLock { $0.append(element) } }

    func write(contentsOf elements: some Sequence<Meeseeks_Agent_V1_BoxMessage>) async throws {
        for element in elements { try await write(element) }
    }
}
