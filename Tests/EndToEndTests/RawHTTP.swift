import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1

/// Requests exactly as given (any header, any body, any query), for checking what the box does
/// with input its own client would never send.
enum RawHTTP {
    struct Reply {
        var status: Int
        var body: String
        var headers: HTTPHeaders

        func header(_ name: String) -> String? { headers.first(name: name) }
    }

    static func send(
        _ method: String, _ url: String, headers: [(String, String)] = [], body: String? = nil, token: String? = BoxProcess.token
    ) async throws -> Reply {
        var request = HTTPClientRequest(url: url)
        request.method = HTTPMethod(rawValue: method)
        if let token { request.headers.add(name: "Authorization", value: "Bearer \(token)") }
        for (name, value) in headers { request.headers.add(name: name, value: value) }
        if let body { request.body = .bytes(ByteBuffer(string: body)) }
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(30))
        let bytes = try await response.body.collect(upTo: 16 << 20)
        return Reply(status: Int(response.status.code), body: String(buffer: bytes), headers: response.headers)
    }
}

/// Resident memory of a process, in KiB (VmRSS).
func residentKiB(_ pid: pid_t) -> Int? {
    guard let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8) else { return nil }
    return status.split(separator: "\n").first { $0.hasPrefix("VmRSS:") }
        .flatMap { Int($0.split(separator: " ", omittingEmptySubsequences: true)[1]) }
}

/// Boundary values for every number a client, Slack or an agent may send.
let hostileNumbers = [
    "-9223372036854775808", "9223372036854775807", "18446744073709551615", "-1", "0",
    String(repeating: "9", count: 40), "1e309", "nan", "inf", "-inf", "0x10", " 1", "",
]
