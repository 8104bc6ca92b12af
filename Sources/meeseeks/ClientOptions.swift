import ArgumentParser
import Foundation
import MeeseeksClient

/// How client commands find and authenticate to a running box.
struct ClientOptions: ParsableArguments {
    @Option(name: .long, help: "The box's URL (default $MEESEEKS_URL, else http://127.0.0.1:8080).")
    var box: String?

    @Option(name: .customLong("as"), help: "Act as this Slack user ID (tokens of admins only; default $MEESEEKS_USER).")
    var user: String?

    func client() throws -> BoxClient {
        let environment = ProcessInfo.processInfo.environment
        guard let token = environment["MEESEEKS_API_TOKEN"].flatMap({ $0.isEmpty ? nil : $0 }) else {
            throw ValidationError(
                "set MEESEEKS_API_TOKEN to an API token: the one the box printed at its first start, or one from `meeseeks token create`")
        }
        var url = box ?? environment["MEESEEKS_URL"] ?? "http://127.0.0.1:8080"
        if !url.contains("://") { url = "http://" + url }
        return BoxClient(baseURL: url, token: token, actingAs: user ?? environment["MEESEEKS_USER"].flatMap { $0.isEmpty ? nil : $0 })
    }
}

/// Runs a client call, turning failures into a message and exit status 1.
func clientCall<T>(_ body: () async throws -> T) async throws -> T {
    do {
        return try await body()
    } catch let failure as BoxClient.Failure {
        FileOutput.standardError.write("meeseeks: \(failure.message)\n")
        throw ExitCode(1)
    }
}
