import Foundation
public import MeeseeksCore
import MeeseeksSQLite

/// `meeseeks token`: API tokens of the box this configuration describes, in the very database
/// `serve` uses. Only hashes are stored; a new token is shown once.
public struct TokenAdmin {
    let store: any TokenStore & AuditStore

    public struct Problem: Error, CustomStringConvertible {
        public var description: String
    }

    public init(store: any TokenStore & AuditStore) {
        self.store = store
    }

    /// Opens the store at `location` for token work (tokens are not sealed, so no key is needed).
    public static func open(_ location: DatabaseLocation) throws(Problem) -> TokenAdmin {
        TokenAdmin(store: try openStore(location))
    }

    /// The store at `location`, for the admin commands (no key: they touch nothing sealed).
    static func openStore(_ location: DatabaseLocation) throws(Problem) -> any BoxStore {
        switch location {
        case .sqlite(let path):
            do {
                return try SQLiteStore(path: path)
            } catch {
                throw Problem(description: "cannot open the database \(path): \(error)")
            }
        case .postgres:
            return try openPostgres(location)
        }
    }

    /// Makes a token acting as `user`; returns it (shown once: only its hash is kept).
    public func create(user: String, name: String) throws(Problem) -> String {
        let token = "msk_" + Hex.encode((0..<32).map { _ in UInt8.random(in: 0...255) })
        do {
            try store.saveToken(APIToken(name: name, user: user, hash: BoxAPI.hash(token: token), createdAt: Date().timeIntervalSince1970))
        } catch {
            throw Problem(description: "cannot create token '\(name)': \(error) (is the name taken?)")
        }
        audit(AuditRecord(action: .tokenCreated, user: user, outcome: "ok", detail: "name \(name)"))
        return token
    }

    public func list() throws -> [APIToken] {
        try store.tokens()
    }

    /// False when there is no active token by that name.
    public func revoke(name: String) throws -> Bool {
        guard try store.revokeToken(name: name) else { return false }
        audit(AuditRecord(action: .tokenRevoked, user: "cli", outcome: "ok", detail: "name \(name)"))
        return true
    }

    /// The token is made (or revoked) whether or not its audit row is written; a failure to
    /// write it is said on standard error.
    private func audit(_ record: AuditRecord) {
        do {
            try store.append(record, at: Date().timeIntervalSince1970)
        } catch {
            FileHandle.standardError.write(Data("meeseeks: warning: the audit trail was not written: \(error)\n".utf8))
        }
    }
}
