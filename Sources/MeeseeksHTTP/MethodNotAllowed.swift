public import Hummingbird

/// Answers 405 with an `Allow` header, instead of 404, when a request names a path the API serves
/// with a method it does not: the client has the right address and the wrong verb, and is told so.
struct MethodNotAllowed<Context: RequestContext>: RouterMiddleware {
    /// The routes known when the middleware was made, and the methods each takes.
    let routes: [(path: RouterPath, methods: [HTTPRequest.Method])]

    init(routes: [Router<Context>.RouteDescription]) {
        var byPath: [String: (path: RouterPath, methods: [HTTPRequest.Method])] = [:]
        for route in routes { byPath[route.path.description, default: (route.path, [])].methods.append(route.method) }
        // In a fixed order, so a path two patterns could match always gets the same answer.
        self.routes = byPath.keys.sorted().map { key in (byPath[key]!.path, byPath[key]!.methods.sorted { $0.rawValue < $1.rawValue }) }
    }

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let error as HTTPError where error.status == .notFound {
            guard let allowed = methods(for: request.uri.path) else { throw error }
            var response = JSONResponse.error(
                .methodNotAllowed, "\(request.uri.path) takes \(allowed.map(\.rawValue).joined(separator: " or ")), not \(request.method)")
            response.headers[.allow] = allowed.map(\.rawValue).joined(separator: ", ")
            return response
        }
    }

    func methods(for path: String) -> [HTTPRequest.Method]? {
        let segments = path.split(separator: "/", omittingEmptySubsequences: true)
        return routes.first { route in
            route.path.components.count == segments.count && zip(route.path.components, segments).allSatisfy { $0 ~= $1 }
        }?.methods
    }
}
