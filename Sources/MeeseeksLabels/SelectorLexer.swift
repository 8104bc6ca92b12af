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
    /// Unicode scalars: cheaper than characters, and the same offsets for anything a selector holds.
    private let characters: [Unicode.Scalar]
    private var index = 0

    init(_ text: String) {
        characters = Array(text.unicodeScalars)
    }

    private static func isSpecial(_ c: Unicode.Scalar) -> Bool {
        c == "!" || c == "=" || c == "(" || c == ")" || c == ","
    }

    private static func isSpace(_ c: Unicode.Scalar) -> Bool {
        c.isASCII ? (c == " " || c == "\t" || c == "\n" || c == "\r") : c.properties.isWhitespace
    }

    mutating func tokens() -> [PositionedToken] {
        var result: [PositionedToken] = []
        while true {
            let token = next()
            result.append(token)
            if case .end = token.token { return result }
        }
    }

    private mutating func next() -> PositionedToken {
        while index < characters.count, Self.isSpace(characters[index]) { index += 1 }
        let start = index
        guard index < characters.count else { return PositionedToken(token: .end, offset: start) }
        let c = characters[index]
        if Self.isSpecial(c) {
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
        while index < characters.count, !Self.isSpace(characters[index]), !Self.isSpecial(characters[index]) {
            index += 1
        }
        var word = ""
        word.unicodeScalars.append(contentsOf: characters[start..<index])
        switch word {
        case "in": return PositionedToken(token: .in, offset: start)
        case "notin": return PositionedToken(token: .notIn, offset: start)
        default: return PositionedToken(token: .identifier(word), offset: start)
        }
    }
}
