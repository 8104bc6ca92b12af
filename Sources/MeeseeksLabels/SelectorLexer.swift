/// The tokens of the selector language.
enum SelectorToken: Hashable, Sendable {
    case identifier(String)
    case doesNotExist  // !
    case equals  // =
    case doubleEquals  // ==
    case notEquals  // !=
    case openParen
    case closeParen
    case comma
    case `in`
    case notIn
    case end
    case error(String)

    /// How a message names the token: `found '=='`, `found end of string`.
    var shown: String {
        switch self {
        case .identifier(let s): "'\(s)'"
        case .doesNotExist: "'!'"
        case .equals: "'='"
        case .doubleEquals: "'=='"
        case .notEquals: "'!='"
        case .openParen: "'('"
        case .closeParen: "')'"
        case .comma: "','"
        case .in: "'in'"
        case .notIn: "'notin'"
        case .end: "end of string"
        case .error(let s): "'\(s)'"
        }
    }
}

/// A token and where it starts.
struct PositionedToken: Hashable, Sendable {
    var token: SelectorToken
    var offset: Int
}

/// Splits selector text into tokens, keeping each token's character offset.
struct SelectorLexer {
    private let characters: [Character]
    private var index = 0

    init(_ text: String) {
        characters = Array(text)
    }

    private static let special: Set<Character> = ["!", "=", "(", ")", ","]

    mutating func tokens() -> [PositionedToken] {
        var result: [PositionedToken] = []
        while true {
            let token = next()
            result.append(token)
            if case .end = token.token { return result }
        }
    }

    private mutating func next() -> PositionedToken {
        while index < characters.count, characters[index].isWhitespace { index += 1 }
        let start = index
        guard index < characters.count else { return PositionedToken(token: .end, offset: start) }
        let c = characters[index]
        if Self.special.contains(c) {
            index += 1
            let following = index < characters.count ? characters[index] : nil
            switch (c, following) {
            case ("=", "="):
                index += 1
                return PositionedToken(token: .doubleEquals, offset: start)
            case ("!", "="):
                index += 1
                return PositionedToken(token: .notEquals, offset: start)
            case ("=", _): return PositionedToken(token: .equals, offset: start)
            case ("!", _): return PositionedToken(token: .doesNotExist, offset: start)
            case ("(", _): return PositionedToken(token: .openParen, offset: start)
            case (")", _): return PositionedToken(token: .closeParen, offset: start)
            default: return PositionedToken(token: .comma, offset: start)
            }
        }
        while index < characters.count, !characters[index].isWhitespace, !Self.special.contains(characters[index]) {
            index += 1
        }
        let word = String(characters[start..<index])
        switch word {
        case "in": return PositionedToken(token: .in, offset: start)
        case "notin": return PositionedToken(token: .notIn, offset: start)
        default: return PositionedToken(token: .identifier(word), offset: start)
        }
    }
}
