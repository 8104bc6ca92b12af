import AsyncHTTPClient
import Foundation
public import MeeseeksAPI
public import MeeseeksCore
import NIOCore
import NIOHTTP1

/// A client of the box's `/api/v1`, for the `meeseeks` CLI.
public struct BoxClient: Sendable {
    public let baseURL: String
    let token: String
    /// The user to act as (`X-Meeseeks-As`), for tokens allowed to.
    let actingAs: String?

    public struct Failure: Error, CustomStringConvertible, Sendable {
        public var status: Int
        public var message: String
        public var description: String { message }
    }

    public init(baseURL: String, token: String, actingAs: String?) {
        self.baseURL = baseURL.hasSuffix("/") ? String(baseURL.dropLast()) : baseURL
        self.token = token
        self.actingAs = actingAs
    }

    // MARK: Calls

    public func openDialog(text: String) async throws -> API.DialogState {
        try await call("POST", "/api/v1/dialogs", body: API.OpenDialog(text: text))
    }

    public func send(_ input: DialogInput, to dialog: String) async throws -> API.DialogState {
        try await call("POST", "/api/v1/dialogs/\(dialog)/events", body: input)
    }

    public func messages(of dialog: String, after seq: Int, wait: Double) async throws -> API.DialogState {
        try await call("GET", "/api/v1/dialogs/\(dialog)/messages?after=\(seq)&wait=\(wait)", timeout: wait + 10)
    }

    public func run(_ request: API.RunRequest) async throws -> Job {
        try await call("POST", "/api/v1/jobs", body: request)
    }

    public func jobs(limit: Int, all: Bool) async throws -> [Job] {
        let jobs: API.Jobs = try await call("GET", "/api/v1/jobs?limit=\(limit)\(all ? "&all=1" : "")")
        return jobs.jobs
    }

    public func job(_ id: Int64) async throws -> API.JobDetail {
        try await call("GET", "/api/v1/jobs/\(id)")
    }

    /// Output from `offset`, waiting up to `wait` seconds for more; the next offset and the job's status.
    public func output(_ id: Int64, from offset: Int, wait: Double) async throws -> (
        bytes: [UInt8], next: Int, status: JobStatus, exitCode: Int?
    ) {
        let response = try await send("GET", "/api/v1/jobs/\(id)/output?offset=\(offset)&wait=\(wait)", body: nil, timeout: wait + 10)
        let bytes = Array(response.body.readableBytesView)
        let next = response.headers.first(name: "X-Meeseeks-Next-Offset").flatMap(Int.init) ?? offset + bytes.count
        let status = response.headers.first(name: "X-Meeseeks-Job-Status").flatMap(JobStatus.init(rawValue:)) ?? .queued
        let code = response.headers.first(name: "X-Meeseeks-Exit-Code").flatMap(Int.init)
        return (bytes, next, status, code)
    }

    public func cancel(_ id: Int64) async throws -> Job {
        try await call("POST", "/api/v1/jobs/\(id)/cancel", body: Empty())
    }

    /// Jobs awaiting approval that the caller may approve or deny.
    public func approvals() async throws -> [API.Approval] {
        let approvals: API.Approvals = try await call("GET", "/api/v1/approvals")
        return approvals.approvals
    }

    public func decide(_ id: Int64, approve: Bool, reason: String?) async throws -> API.Approval {
        try await call("POST", "/api/v1/jobs/\(id)/\(approve ? "approve" : "deny")", body: API.Decision(reason: reason))
    }

    public func agents() async throws -> [AgentRecord] {
        let agents: API.Agents = try await call("GET", "/api/v1/agents")
        return agents.agents
    }

    public func cluster() async throws -> API.Cluster {
        try await call("GET", "/api/v1/cluster")
    }

    public func audit(_ query: AuditQuery) async throws -> [AuditEntry] {
        var parts = ["limit=\(query.limit)"]
        for (key, value) in [("user", query.user), ("command", query.command), ("outcome", query.outcome)] {
            if let value { parts.append("\(key)=\(value.addingPercentEncoding(withAllowedCharacters: .urlQueryAllowed) ?? value)") }
        }
        if let since = query.since { parts.append("since=\(since)") }
        if let until = query.until { parts.append("until=\(until)") }
        let audit: API.Audit = try await call("GET", "/api/v1/audit?" + parts.joined(separator: "&"))
        return audit.entries
    }

    // MARK: Plumbing

    struct Empty: Codable {}

    struct Reply {
        var status: Int
        var headers: HTTPHeaders
        var body: ByteBuffer
    }

    func call<Result: Decodable>(_ method: String, _ path: String, timeout: Double = 30) async throws -> Result {
        try await call(method, path, body: Optional<Empty>.none, timeout: timeout)
    }

    func call<Body: Encodable, Result: Decodable>(_ method: String, _ path: String, body: Body?, timeout: Double = 30) async throws
        -> Result
    {
        let data = try body.map { try JSONEncoder().encode($0) }
        let response = try await send(method, path, body: data, timeout: timeout)
        do {
            return try JSONDecoder().decode(Result.self, from: Data(response.body.readableBytesView))
        } catch {
            throw Failure(status: response.status, message: "unexpected answer from the box: \(error)")
        }
    }

    func send(_ method: String, _ path: String, body: Data?, timeout: Double) async throws -> Reply {
        var request = HTTPClientRequest(url: baseURL + path)
        request.method = HTTPMethod(rawValue: method)
        request.headers.add(name: "Authorization", value: "Bearer \(token)")
        request.headers.add(name: "Accept", value: "application/json")
        if let actingAs { request.headers.add(name: "X-Meeseeks-As", value: actingAs) }
        if let body {
            request.headers.add(name: "Content-Type", value: "application/json")
            request.body = .bytes(ByteBuffer(bytes: body))
        }
        let response: HTTPClientResponse
        do {
            response = try await HTTPClient.shared.execute(request, timeout: .milliseconds(Int64(timeout * 1000)))
        } catch {
            throw Failure(status: 0, message: "cannot reach the box at \(baseURL): \(error)")
        }
        let buffer = try await response.body.collect(upTo: 64 << 20)
        guard (200..<300).contains(Int(response.status.code)) else {
            // A body that is not the box's error JSON (a proxy's page, say) is shown by its status.
            let message =
                (try? JSONDecoder().decode(API.ErrorBody.self, from: Data(buffer.readableBytesView)))?.error
                ?? "HTTP \(response.status.code)"
            throw Failure(status: Int(response.status.code), message: message)
        }
        return Reply(status: Int(response.status.code), headers: response.headers, body: buffer)
    }
}
