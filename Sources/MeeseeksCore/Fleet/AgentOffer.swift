public import MeeseeksConfig

/// What an agent brings besides the box's commands it accepts: the commands it defines itself
/// (each with the digest of its whole definition, how it runs included), and whether it verifies
/// 2FA codes.
public struct AgentOffer: Sendable, Hashable {
    /// Its own commands, as the box offers them (their action is `.onAgent`).
    public var definitions: [CommandSpec]
    /// Command name → digest of its definition.
    public var digests: [String: String]
    public var verifiesTwoFactor: Bool

    public init(definitions: [CommandSpec] = [], digests: [String: String] = [:], verifiesTwoFactor: Bool = false) {
        self.definitions = definitions
        self.digests = digests
        self.verifiesTwoFactor = verifiesTwoFactor
    }
}
