public import Crypto
import Foundation
public import MeeseeksCore

/// `SecretSealer` with AES-256-GCM: a fresh random nonce per value, the context as authenticated
/// data. Sealed form: a version byte, then the nonce, ciphertext and tag.
public struct AESGCMSealer: SecretSealer {
    let key: SymmetricKey
    static let version: UInt8 = 1

    public init(key: SymmetricKey) {
        self.key = key
    }

    public func seal(_ plaintext: [UInt8], context: String) throws -> [UInt8] {
        do {
            let box = try AES.GCM.seal(plaintext, using: key, authenticating: Array(context.utf8))
            guard let combined = box.combined else { throw SealError.cannotSeal("no combined form") }
            return [Self.version] + Array(combined)
        } catch let error as SealError {
            throw error
        } catch {
            throw SealError.cannotSeal("\(error)")
        }
    }

    public func open(_ sealed: [UInt8], context: String) throws(SealError) -> [UInt8] {
        // version, 12-byte nonce, 16-byte tag: an empty plaintext seals to exactly 29 bytes.
        guard sealed.count >= 29, sealed[0] == Self.version else { throw .unreadable }
        do {
            let box = try AES.GCM.SealedBox(combined: sealed.dropFirst())
            return Array(try AES.GCM.open(box, using: key, authenticating: Array(context.utf8)))
        } catch {
            throw .unreadable
        }
    }
}
