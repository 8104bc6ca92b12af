public import Logging
import Synchronization

/// Who is who in the workspace: `@handle` role members resolved to user IDs through `users.list`
/// when the box loads or reloads its policy (handles can be changed by their owners, which is why
/// lint warns about them), and display names for user IDs in the text the box shows, learnt from
/// the same listing and from `users.info`, and cached.
public final class SlackDirectory: Sendable {
    let api: SlackWebAPI
    let logger: Logger
    private let names = Mutex<[String: String]>([:])
    /// IDs being looked up, so a burst of messages asks Slack once.
    private let asking = Mutex<Set<String>>([])

    public init(api: SlackWebAPI, logger: Logger) {
        self.api = api
        self.logger = logger
    }

    /// What became of a policy's `@handle` members.
    public struct HandleResolution: Sendable, Hashable {
        /// Handle (without `@`) → user ID.
        public var resolved: [String: String] = [:]
        /// Handles no active user has as their name.
        public var unknown: Set<String> = []
        /// Handles more than one active user has (Slack keeps names unique, so this is a broken listing).
        public var ambiguous: Set<String> = []
        /// False when Slack could not be asked: nothing is resolved, nothing is known to be wrong.
        public var listed = true
    }

    /// Resolves handles by Slack's unique `name` only: display names are editable by their owners
    /// and not unique, so matching them would let anyone take a role by renaming themselves.
    /// Learns every listed user's display name on the way.
    public func resolve(_ handles: Set<String>) async -> HandleResolution {
        var matches: [String: Set<String>] = [:]
        let wanted = Dictionary(handles.map { ($0.lowercased(), $0) }, uniquingKeysWith: { first, _ in first })
        let listed = await list { member, id in
            if let name = member["name"]?.string, let handle = wanted[name.lowercased()] {
                matches[handle, default: []].insert(id)
            }
        }
        var resolution = HandleResolution(listed: listed)
        guard listed else {
            if !handles.isEmpty { logger.warning("cannot list Slack users: @handle members stay unresolved and grant nothing") }
            return resolution
        }
        for handle in handles {
            switch matches[handle]?.count ?? 0 {
            case 0: resolution.unknown.insert(handle)
            case 1: resolution.resolved[handle] = matches[handle]!.first!
            default: resolution.ambiguous.insert(handle)
            }
        }
        return resolution
    }

    /// Walks `users.list` (at most 20,000 users), learning names and handing each active member
    /// to `visit`. False if Slack could not be asked.
    private func list(_ visit: (JSON, String) -> Void) async -> Bool {
        var cursor = ""
        for _ in 0..<100 {
            var body: JSON = ["limit": "200"]
            if !cursor.isEmpty { body["cursor"] = .string(cursor) }
            guard case .ok(let page) = await api.call("users.list", body, form: true) else { return false }
            for member in page["members"]?.array ?? [] where member["deleted"]?.bool != true {
                guard let id = member["id"]?.string else { continue }
                learn(member, id: id)
                visit(member, id)
            }
            cursor = page["response_metadata"]?["next_cursor"]?.string ?? ""
            if cursor.isEmpty { break }
        }
        return true
    }

    private func learn(_ user: JSON, id: String) {
        let candidates = [user["profile"]?["display_name"]?.string, user["real_name"]?.string, user["name"]?.string]
        if let name = candidates.compactMap({ $0 }).first(where: { !$0.isEmpty }) {
            names.withLock { $0[id] = name }
        }
    }

    /// The cached display name of a user ID.
    public func displayName(_ id: String) -> String? {
        names.withLock { $0[id] }.flatMap { $0.isEmpty ? nil : $0 }
    }

    /// The IDs Slack has not been asked about yet (known users and known non-users left out).
    public func unlearnt(_ ids: Set<String>) -> Set<String> {
        names.withLock { known in ids.filter { known[$0] == nil } }
    }

    /// Asks `users.info` about the IDs not cached yet (each once at a time).
    public func lookUp(_ ids: Set<String>) async {
        let unknown = unlearnt(ids)
        let mine = asking.withLock { asking in
            let fresh = unknown.subtracting(asking)
            asking.formUnion(fresh)
            return fresh
        }
        for id in mine.sorted() {
            switch await api.call("users.info", ["user": .string(id)], form: true) {
            case .ok(let answer):
                if let user = answer["user"] { learn(user, id: id) }
            case .refused:
                // Not a user (a word that only looks like an ID): remembered, not asked again.
                names.withLock { $0[id] = "" }
            case .retry:
                break
            }
            _ = asking.withLock { $0.remove(id) }
        }
    }

    /// Words of `text` that look like user IDs (`U…` or `W…`, capitals, digits and underscores).
    public static func userIDs(in text: String) -> Set<String> {
        let words = text.split { !isWordCharacter($0) }
        return Set(words.filter(looksLikeUserID).map(String.init))
    }

    private static func isWordCharacter(_ character: Character) -> Bool {
        character.isLetter || character.isNumber || character == "_"
    }

    private static func looksLikeUserID(_ word: Substring) -> Bool {
        guard word.count >= 5, let first = word.first, first == "U" || first == "W" else { return false }
        return word.allSatisfy { $0.isUppercase || $0.isNumber || $0 == "_" }
    }

    /// `text` with each known user ID followed by the user's name: `U01SRE (rick)`.
    public func annotate(_ text: String) -> String {
        let known = names.withLock { $0 }
        guard !known.isEmpty else { return text }
        var out = ""
        var word = ""
        func flush() {
            out += word
            if let name = known[word], !name.isEmpty { out += " (\(name))" }
            word = ""
        }
        for character in text {
            if Self.isWordCharacter(character) {
                word.append(character)
            } else {
                flush()
                out.append(character)
            }
        }
        flush()
        return out
    }
}
