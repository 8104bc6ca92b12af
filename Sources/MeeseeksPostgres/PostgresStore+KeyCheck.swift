public import MeeseeksCore

extension PostgresStore {
    /// The text sealed into `key_check`; only its opening matters.
    static let keyCheckText = Array("meeseeks key check".utf8)

    /// Every box of a cluster must seal with the same key. The first box to start seals a known
    /// value into the database; each later one must open it, or it is refused (it would seal
    /// secrets the others cannot open, and open none of theirs).
    ///
    /// - Throws: `PostgresStoreError.Code.wrongKey` when this store's key is not the database's.
    public func checkSecretKey() throws {
        let sealer = try requireSealer()
        let candidate = try sealer.seal(Self.keyCheckText, context: "key_check")
        try pool.withConnection { session in
            try session.query("INSERT INTO key_check (sealed) VALUES ($1) ON CONFLICT DO NOTHING", [.bytes(candidate)])
        }
        let stored = try pool.withConnection { session in try session.query("SELECT sealed FROM key_check").rows.first?.bytes(0) }
        let opened: [UInt8]?
        do {
            opened = try stored.map { try sealer.open($0, context: "key_check") }
        } catch {
            opened = nil  // sealed with another key: refused below
        }
        guard opened == Self.keyCheckText else {
            throw PostgresStoreError(
                .wrongKey,
                "this box's secret key is not the one the database's other boxes use; give every box the same MEESEEKS_SECRET_KEY (or meeseeks.key)"
            )
        }
    }
}
