public import Logging

/// Resolves `@handle` role members to Slack user IDs through `users.list`, when the box loads or
/// reloads its policy. Handles can be changed by their owners, which is why lint warns about them.
public struct SlackDirectory: Sendable {
    let api: SlackWebAPI
    let logger: Logger

    public init(api: SlackWebAPI, logger: Logger) {
        self.api = api
        self.logger = logger
    }

    /// Handle (without `@`) → user ID, for the handles that match an active user's name or
    /// display name.
    public func resolve(_ handles: Set<String>) async -> [String: String] {
        guard !handles.isEmpty else { return [:] }
        var resolved: [String: String] = [:]
        var cursor = ""
        let wanted = Set(handles.map { $0.lowercased() })
        for _ in 0..<100 {  // at most 20,000 users
            var body: JSON = ["limit": "200"]
            if !cursor.isEmpty { body["cursor"] = .string(cursor) }
            guard case .ok(let page) = await api.call("users.list", body, form: true) else {
                logger.warning("cannot list Slack users: @handle members stay unresolved")
                break
            }
            for member in page["members"]?.array ?? [] where member["deleted"]?.bool != true {
                guard let id = member["id"]?.string else { continue }
                for name in [member["name"]?.string, member["profile"]?["display_name"]?.string].compactMap({ $0 })
                where wanted.contains(name.lowercased()) {
                    let handle = handles.first { $0.lowercased() == name.lowercased() }!
                    resolved[handle] = id
                }
            }
            cursor = page["response_metadata"]?["next_cursor"]?.string ?? ""
            if cursor.isEmpty { break }
        }
        for handle in handles.subtracting(resolved.keys).sorted() {
            logger.warning("policy member @\(handle) matches no Slack user; it grants nothing")
        }
        return resolved
    }
}
