import Foundation
import HTTPTypes
public import Hummingbird
public import MeeseeksAPI
public import MeeseeksCore

/// `/healthz`, `/readyz`, `/metrics` and the bearer-token JSON API under `/api/v1`.
public struct APIRoutes<Context: RequestContext>: Sendable {
    let service: any APIService
    static var bodyLimit: Int { 1 << 20 }

    public init(service: any APIService) {
        self.service = service
    }

    public func add(to router: Router<Context>) {
        router.get("/healthz") { _, _ in JSONResponse.make(["status": "ok"]) }
        router.get("/readyz") { _, _ in
            let checks = await service.readiness()
            let ready = checks.values.allSatisfy { $0 }
            let failed = checks.filter { !$0.value }.keys.sorted()
            return JSONResponse.make(
                ReadyBody(ready: ready, role: await service.role(), checks: checks, failed: failed),
                status: ready ? .ok : .serviceUnavailable)
        }
        router.get("/metrics") { request, _ in
            let text = await service.metricsText()
            // OpenMetrics for scrapers that ask for it, the classic text format otherwise.
            if request.headers[.accept]?.contains("application/openmetrics-text") == true {
                return Response(
                    status: .ok, headers: [.contentType: MetricsExposition.openMetricsContentType],
                    body: .init(byteBuffer: ByteBuffer(string: MetricsExposition.openMetrics(text))))
            }
            return Response(
                status: .ok, headers: [.contentType: MetricsExposition.prometheusContentType],
                body: .init(byteBuffer: ByteBuffer(string: MetricsExposition.prometheus(text))))
        }
        router.get("/api/v1/openapi.json") { _, _ in
            Response(
                status: .ok, headers: [.contentType: "application/json; charset=utf-8"],
                body: .init(byteBuffer: ByteBuffer(string: OpenAPIDocument.json)))
        }
        let api = router.group("api/v1")
        api.post("dialogs") { request, _ in
            try await guarded(request) { principal, user in
                var body = try await JSONResponse.decode(API.OpenDialog.self, from: request, limit: Self.bodyLimit)
                // The API is not a Slack channel: a client may name one only with an admin's rights,
                // or a command restricted to channels would be open to anyone who claims one.
                if !principal.isAdmin { body.channel = nil }
                body.actedBy = principal.impersonatedBy
                return JSONResponse.make(try await service.openDialog(body, as: user), status: .created)
            }
        }
        api.post("dialogs/:id/events") { request, context in
            try await guarded(request) { _, user in
                let id = try context.parameters.require("id")
                let input = try await JSONResponse.decode(DialogInput.self, from: request, limit: Self.bodyLimit)
                return JSONResponse.make(try await service.send(input, to: id, as: user))
            }
        }
        api.get("dialogs/:id/messages") { request, context in
            try await guarded(request) { _, user in
                let id = try context.parameters.require("id")
                let query = QueryNumbers(request)
                let after = try query.integer("after", default: 0, in: 0...Int.max)
                let wait = try query.seconds("wait", default: 0, in: 0...60)
                return JSONResponse.make(try await service.messages(of: id, as: user, after: after, wait: wait))
            }
        }
        api.post("jobs") { request, _ in
            try await guarded(request) { principal, user in
                let body = try await JSONResponse.decode(API.RunRequest.self, from: request, limit: Self.bodyLimit)
                var acting = principal
                acting.user = user
                return JSONResponse.make(try await service.run(body, as: acting), status: .accepted)
            }
        }
        api.get("jobs") { request, _ in
            try await guarded(request) { principal, user in
                let all = try everyone(request)
                if all, !principal.isAdmin { throw API.Failure(.forbidden, "listing everyone's jobs is for admins") }
                let limit = try QueryNumbers(request).integer("limit", default: 20, in: 1...1000)
                return JSONResponse.make(API.Jobs(jobs: try await service.jobs(of: all ? nil : user, limit: limit)))
            }
        }
        api.get("jobs/:id") { request, context in
            try await guarded(request) { principal, user in
                JSONResponse.make(try await service.job(try jobID(context), as: acting(principal, user)))
            }
        }
        api.get("jobs/:id/output") { request, context in
            try await guarded(request) { principal, user in
                let query = QueryNumbers(request)
                let offset = try query.integer("offset", default: 0, in: 0...Int.max)
                let wait = try query.seconds("wait", default: 0, in: 0...60)
                let (bytes, job) = try await service.output(
                    of: try jobID(context), from: offset, wait: wait, as: acting(principal, user))
                var headers: HTTPFields = [.contentType: "application/octet-stream"]
                headers[HTTPField.Name("X-Meeseeks-Next-Offset")!] = String(
                    offset.addingReportingOverflow(bytes.count).overflow ? Int.max : offset + bytes.count)
                headers[HTTPField.Name("X-Meeseeks-Job-Status")!] = job.status.rawValue
                if let code = job.exitCode { headers[HTTPField.Name("X-Meeseeks-Exit-Code")!] = String(code) }
                return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: bytes)))
            }
        }
        api.post("jobs/:id/cancel") { request, context in
            try await guarded(request) { principal, user in
                JSONResponse.make(try await service.cancel(try jobID(context), as: acting(principal, user)))
            }
        }
        api.get("approvals") { request, _ in
            try await guarded(request) { principal, user in
                JSONResponse.make(API.Approvals(approvals: try await service.approvals(as: acting(principal, user))))
            }
        }
        api.post("jobs/:id/approve") { request, context in
            try await guarded(request) { principal, user in
                JSONResponse.make(try await service.decide(try jobID(context), approve: true, reason: nil, as: acting(principal, user)))
            }
        }
        api.post("jobs/:id/deny") { request, context in
            try await guarded(request) { principal, user in
                let body = try await JSONResponse.decode(API.Decision.self, from: request, limit: Self.bodyLimit)
                return JSONResponse.make(
                    try await service.decide(try jobID(context), approve: false, reason: body.reason, as: acting(principal, user)))
            }
        }
        api.get("agents") { request, _ in
            try await guarded(request) { principal, _ in JSONResponse.make(API.Agents(agents: try await service.agents(as: principal))) }
        }
        api.get("cluster") { request, _ in
            try await guarded(request) { _, _ in
                do {
                    return JSONResponse.make(try await service.cluster())
                } catch let failure as API.Failure {
                    throw failure
                } catch {
                    throw API.Failure(.unavailable, "cannot read the cluster's state: \(error)")
                }
            }
        }
        api.get("audit") { request, _ in
            try await guarded(request) { principal, _ in
                guard principal.isAdmin else { throw API.Failure(.forbidden, "the audit trail is for admins") }
                let q = request.uri.queryParameters
                let numbers = QueryNumbers(request)
                let query = AuditQuery(
                    user: q.get("user"), command: q.get("command"), outcome: q.get("outcome"),
                    since: try numbers.optionalNumber("since"), until: try numbers.optionalNumber("until"),
                    limit: try numbers.integer("limit", default: 100, in: 1...10_000))
                return JSONResponse.make(API.Audit(entries: try await service.audit(query)))
            }
        }
        api.post("reload") { request, _ in
            try await guarded(request) { principal, _ in
                guard principal.isAdmin else { throw API.Failure(.forbidden, "reloading is for admins") }
                let (applied, diagnostics) = await service.reload()
                return JSONResponse.make(
                    ReloadBody(applied: applied, diagnostics: diagnostics), status: applied ? .ok : .unprocessableContent)
            }
        }
        // Added after the API's routes, it wraps only what matched no route (and routes added later,
        // whose own answers it leaves alone: it turns only a "no such route" into a 405).
        router.add(middleware: MethodNotAllowed<Context>(routes: router.routes))
    }

    struct ReadyBody: Encodable {
        var ready: Bool
        /// `leader` or `standby`: both take traffic.
        var role: String
        var checks: [String: Bool]
        var failed: [String]
    }

    struct ReloadBody: Encodable {
        var applied: Bool
        var diagnostics: [String]
    }

    func jobID(_ context: Context) throws -> Int64 {
        guard let id = Int64(try context.parameters.require("id")), id > 0 else {
            throw API.Failure(.badRequest, "a job id is a positive number")
        }
        return id
    }

    /// `all=1` (or `true`) lists everyone's jobs; anything but those and `0`/`false` is refused, not read as no.
    func everyone(_ request: Request) throws(API.Failure) -> Bool {
        switch request.uri.queryParameters.get("all") {
        case nil, "0", "false": return false
        case "1", "true": return true
        default: throw API.Failure(.badRequest, "'all' must be 1 or 0 (or true or false)")
        }
    }

    func acting(_ principal: API.Principal, _ user: String) -> API.Principal {
        var acting = principal
        acting.user = user
        return acting
    }

    /// Authenticates the bearer token, resolves `X-Meeseeks-As`, and turns failures into JSON errors.
    func guarded(_ request: Request, _ body: (API.Principal, String) async throws -> Response) async throws -> Response {
        guard let header = request.headers[.authorization], header.hasPrefix("Bearer ") else {
            return JSONResponse.error(.unauthorized, "missing bearer token: set MEESEEKS_API_TOKEN", headers: [.wwwAuthenticate: "Bearer"])
        }
        guard let principal = await service.authenticate(token: String(header.dropFirst("Bearer ".count))) else {
            return JSONResponse.error(.unauthorized, "invalid or revoked API token", headers: [.wwwAuthenticate: "Bearer"])
        }
        var acting = principal
        if let other = request.headers[HTTPField.Name("X-Meeseeks-As")!], other != principal.user {
            guard UserName.isPlausible(other) else {
                return JSONResponse.error(.badRequest, "X-Meeseeks-As must name a user: 1 to 255 printable ASCII characters, no spaces")
            }
            guard principal.mayActAsOthers else {
                return JSONResponse.error(.forbidden, "this token acts as \(principal.user) and may not act as \(other)")
            }
            // Acting as someone means having their rights, not the token's; the audit keeps both.
            acting = API.Principal(
                user: other, isAdmin: await service.isAdmin(other), mayActAsOthers: false, impersonatedBy: principal.user)
            await service.impersonated(by: principal, as: other, request: "\(request.method.rawValue) \(request.uri.path)")
        }
        do {
            return try await body(acting, acting.user)
        } catch let failure as API.Failure {
            return JSONResponse.error(JSONResponse.status(for: failure.kind), failure.message)
        } catch let error as HTTPError {
            throw error
        } catch {
            // The store failed (a database out of reach): nothing was done, and it may work again.
            return JSONResponse.error(.serviceUnavailable, "the box cannot reach its database right now; try again")
        }
    }
}

/// What a user id given by a client may look like: a Slack id (`U…`), a name, an email address.
enum UserName {
    static func isPlausible(_ name: String) -> Bool {
        (1...255).contains(name.utf8.count) && name.utf8.allSatisfy { (0x21...0x7E).contains($0) }
    }
}
