import Foundation
public import Hummingbird
public import MeeseeksAPI

/// JSON in and out, with errors as `{"error": ...}`.
public enum JSONResponse {
    static let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return encoder
    }()

    public static func make<T: Encodable>(_ value: T, status: HTTPResponse.Status = .ok) -> Response {
        let data: Data
        do {
            data = try encoder.encode(value)
        } catch {
            // Our own types encode; one that does not (a NaN, say) is the box's fault: a 500 that says so.
            return Response(
                status: .internalServerError, headers: [.contentType: "application/json; charset=utf-8"],
                body: .init(byteBuffer: ByteBuffer(string: "{\"error\":\"the box could not write its answer\"}")))
        }
        return Response(
            status: status, headers: [.contentType: "application/json; charset=utf-8"],
            body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }

    public static func error(_ status: HTTPResponse.Status, _ message: String, headers: HTTPFields = [:]) -> Response {
        var response = make(API.ErrorBody(error: message), status: status)
        response.headers.append(contentsOf: headers)
        return response
    }

    /// Reads a JSON body of at most `limit` bytes.
    public static func decode<T: Decodable>(_ type: T.Type, from request: Request, limit: Int) async throws -> T {
        var request = request
        let buffer: ByteBuffer
        do {
            buffer = try await request.collectBody(upTo: limit)
        } catch {
            throw API.Failure(.badRequest, "the body is larger than \(limit) bytes")
        }
        do {
            return try JSONDecoder().decode(T.self, from: Data(buffer.readableBytesView))
        } catch let error as DecodingError {
            throw API.Failure(.badRequest, sentence(for: error))
        } catch {
            throw API.Failure(.badRequest, "the body is not valid JSON")
        }
    }

    /// A decoder's error as one sentence a person can act on, naming the field by its JSON path.
    static func sentence(for error: DecodingError) -> String {
        func path(_ keys: [any CodingKey]) -> String {
            keys.map { $0.intValue.map { "[\($0)]" } ?? ".\($0.stringValue)" }.joined().trimmingPrefix(".").description
        }
        switch error {
        case .keyNotFound(let key, let context):
            return "the field '\(path(context.codingPath + [key]))' is missing"
        case .typeMismatch(let type, let context):
            return context.codingPath.isEmpty
                ? "the body must be a JSON object" : "the field '\(path(context.codingPath))' must be \(describe(type))"
        case .valueNotFound(let type, let context):
            return "the field '\(path(context.codingPath))' must be \(describe(type)), not null"
        case .dataCorrupted(let context):
            return context.codingPath.isEmpty
                ? "the body is not valid JSON" : "the field '\(path(context.codingPath))' has a value that is not allowed"
        @unknown default:
            return "the body is not valid JSON"
        }
    }

    private static func describe(_ type: Any.Type) -> String {
        let name = String(describing: type)
        switch name {
        case "String": return "a string"
        case "Bool": return "true or false"
        case "Int", "Int64", "Int32": return "a whole number"
        case "Double": return "a number"
        default:
            if name.hasPrefix("Array") { return name.contains("String") || name.contains("Any") ? "a list of strings" : "a list" }
            if name.hasPrefix("Dictionary") { return "an object of strings" }
            return "of another type"
        }
    }

    static func status(for kind: API.Failure.Kind) -> HTTPResponse.Status {
        switch kind {
        case .badRequest: .badRequest
        case .unauthorized: .unauthorized
        case .forbidden: .forbidden
        case .notFound: .notFound
        case .conflict: .conflict
        case .unavailable: .serviceUnavailable
        }
    }
}
