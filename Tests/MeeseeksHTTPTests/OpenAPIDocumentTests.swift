import Foundation
import Hummingbird
import HummingbirdTesting
import MeeseeksAPI
import MeeseeksCore
import MeeseeksHTTP
import Testing

/// The served description of the API is the committed one, names every route the server has and
/// nothing more, and every operation it says needs a token refuses a request without one.
@Suite("The OpenAPI document matches the routes")
struct OpenAPIDocumentTests {
    /// `api/openapi.json` in the repository.
    static let committed: String = {
        let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        do {
            return try String(contentsOf: repository.appendingPathComponent("api/openapi.json"), encoding: .utf8)
        } catch {
            return "cannot read api/openapi.json: \(error)"
        }
    }()

    struct Operation: Hashable, Comparable, CustomStringConvertible {
        var method: String
        var path: String
        var description: String { "\(method) \(path)" }
        static func < (a: Self, b: Self) -> Bool { a.description < b.description }
    }

    static func document() throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(OpenAPIDocument.json.utf8)) as? [String: Any])
    }

    /// Each documented operation, and whether it needs a bearer token.
    static func documented() throws -> [Operation: Bool] {
        let document = try document()
        let paths = try #require(document["paths"] as? [String: [String: Any]])
        var operations: [Operation: Bool] = [:]
        for (path, methods) in paths {
            for (method, value) in methods {
                let operation = try #require(value as? [String: Any])
                let security = operation["security"] as? [Any]
                operations[Operation(method: method.uppercased(), path: path)] = security.map { !$0.isEmpty } ?? true
            }
        }
        return operations
    }

    static func router() -> Router<BasicRequestContext> {
        let router = Router()
        APIRoutes<BasicRequestContext>(service: NobodyService()).add(to: router)
        return router
    }

    @Test("the served document is api/openapi.json (scripts/embed-openapi keeps them equal)")
    func servedIsCommitted() throws {
        #expect(OpenAPIDocument.json == Self.committed.trimmingSuffix("\n"))
        let document = try Self.document()
        #expect(document["openapi"] as? String == "3.1.0")
    }

    @Test("every route is documented, and every documented operation is a route")
    func routesAndDocumentAgree() throws {
        let routes = Set(
            Self.router().routes.map { route in
                Operation(
                    method: route.method.rawValue,
                    path: "/"
                        + route.path.description.split(separator: "/").map { $0.hasPrefix(":") ? "{\($0.dropFirst())}" : String($0) }
                        .joined(separator: "/"))
            })
        let documented = Set(try Self.documented().keys)
        #expect(routes.subtracting(documented).sorted() == [], "routes missing from api/openapi.json")
        #expect(documented.subtracting(routes).sorted() == [], "documented operations the server does not have")
        #expect(routes.count >= 19)
    }

    @Test("an operation that needs a token refuses a request without one; the public ones answer")
    func securityAsDocumented() async throws {
        let operations = try Self.documented()
        let app = Application(router: Self.router())
        try await app.test(.router) { client in
            for (operation, needsToken) in operations.sorted(by: { $0.key < $1.key }) {
                let uri = operation.path.replacingOccurrences(of: "{id}", with: "1")
                let status = try await client.execute(uri: uri, method: HTTPRequest.Method(operation.method)!) { $0.status }
                if needsToken {
                    #expect(status == .unauthorized, "\(operation)")
                } else {
                    #expect(status == .ok || status == .serviceUnavailable, "\(operation)")
                }
            }
            // The right path with a method it does not take: 405 and what it does take.
            try await client.execute(uri: "/api/v1/jobs/7/cancel", method: .get) { response in
                #expect(response.status == .methodNotAllowed)
                #expect(response.headers[.allow] == "POST")
            }
            try await client.execute(uri: "/api/v1/jobs", method: .delete) { response in
                #expect(response.status == .methodNotAllowed)
                #expect(response.headers[.allow] == "GET, POST")
            }
            try await client.execute(uri: "/api/v1/nothing", method: .get) { #expect($0.status == .notFound) }
            try await client.execute(uri: "/api/v1/openapi.json", method: .get) { response in
                #expect(response.headers[.contentType]?.hasPrefix("application/json") == true)
                #expect(String(buffer: response.body) == OpenAPIDocument.json)
            }
        }
    }
}

extension String {
    fileprivate func trimmingSuffix(_ suffix: String) -> String { hasSuffix(suffix) ? String(dropLast(suffix.count)) : self }
}

/// A box that knows no token: enough to list the routes and check that they demand one.
private struct NobodyService: APIService {
    struct Unreachable: Error {}
    func authenticate(token: String) async -> API.Principal? { nil }
    func isAdmin(_ user: String) async -> Bool { false }
    func impersonated(by principal: API.Principal, as other: String, request: String) async {}
    func openDialog(_ request: API.OpenDialog, as user: String) async throws -> API.DialogState { throw Unreachable() }
    func send(_ input: DialogInput, to dialogID: String, as user: String) async throws -> API.DialogState { throw Unreachable() }
    func messages(of dialogID: String, as user: String, after seq: Int, wait: Double) async throws -> API.DialogState {
        throw Unreachable()
    }
    func run(_ request: API.RunRequest, as principal: API.Principal) async throws -> Job { throw Unreachable() }
    func jobs(of user: String?, limit: Int) async throws -> [Job] { throw Unreachable() }
    func job(_ id: Int64, as principal: API.Principal) async throws -> API.JobDetail { throw Unreachable() }
    func output(of id: Int64, from offset: Int, wait: Double, as principal: API.Principal) async throws -> (bytes: [UInt8], job: Job) {
        throw Unreachable()
    }
    func cancel(_ id: Int64, as principal: API.Principal) async throws -> Job { throw Unreachable() }
    func approvals(as principal: API.Principal) async throws -> [API.Approval] { throw Unreachable() }
    func decide(_ id: Int64, approve: Bool, reason: String?, as principal: API.Principal) async throws -> API.Approval {
        throw Unreachable()
    }
    func agents(as principal: API.Principal) async throws -> [AgentRecord] { throw Unreachable() }
    func audit(_ query: AuditQuery) async throws -> [AuditEntry] { throw Unreachable() }
    func readiness() async -> [String: Bool] { ["database": true] }
    func role() async -> String { "leader" }
    func cluster() async throws -> API.Cluster { throw Unreachable() }
    func reload() async -> (applied: Bool, diagnostics: [String]) { (false, ["unreachable"]) }
    func metricsText() async -> String { "" }
}
