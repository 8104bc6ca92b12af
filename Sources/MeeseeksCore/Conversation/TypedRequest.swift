/// A request typed on one line: `restart service=nginx reason="disk full" -l env=stg`.
///
/// Words split on whitespace as a shell would, with single and double quotes (Slack's curly quotes
/// too) and backslash escapes, but nothing is ever executed: the words only fill arguments.
public struct TypedRequest: Hashable, Sendable {
    public var command: String
    /// Values given by position, in the order the command declares its arguments.
    public var positional: [String]
    /// `name=value` pairs, in the order given.
    public var named: [Pair]
    /// The text after `-l`, if any.
    public var selector: String?

    public struct Pair: Hashable, Sendable {
        public var name: String
        public var value: String
    }

    public enum ParseError: Error, Hashable, Sendable, CustomStringConvertible {
        case unbalancedQuote(Character)
        case missingSelector
        case empty

        public var description: String {
            switch self {
            case .unbalancedQuote(let quote): "unbalanced \(quote) quote: close it, or escape it with a backslash"
            case .missingSelector: "-l needs a selector, such as -l env=stg"
            case .empty: "say a command, or 'help'"
            }
        }
    }

    /// Parses `text`; `isArgumentName` tells `name=value` from a positional value containing `=`.
    public static func parse(_ text: String, isArgumentName: (String, String) -> Bool = { _, _ in true }) throws(ParseError)
        -> TypedRequest
    {
        let words = try split(text)
        guard let command = words.first else { throw .empty }
        var request = TypedRequest(command: command, positional: [], named: [], selector: nil)
        var index = 1
        while index < words.count {
            let word = words[index]
            index += 1
            if word == "-l" || word == "--selector" {
                guard index < words.count else { throw .missingSelector }
                request.selector = [request.selector, words[index]].compactMap { $0 }.joined(separator: ",")
                index += 1
            } else if word.hasPrefix("-l=") || word.hasPrefix("--selector=") {
                let value = String(word.drop { $0 != "=" }.dropFirst())
                request.selector = [request.selector, value].compactMap { $0 }.joined(separator: ",")
            } else if let equals = word.firstIndex(of: "="), isArgumentName(command, String(word[..<equals])) {
                request.named.append(Pair(name: String(word[..<equals]), value: String(word[word.index(after: equals)...])))
            } else {
                request.positional.append(word)
            }
        }
        return request
    }

    static let openingQuotes: [Character: Character] = ["\"": "\"", "'": "'", "“": "”", "‘": "’", "”": "”", "’": "’"]

    /// Shell-like word splitting, without expansion of any kind.
    public static func split(_ text: String) throws(ParseError) -> [String] {
        var words: [String] = []
        var current = ""
        var inWord = false
        var iterator = Array(text)[...]
        while let c = iterator.popFirst() {
            if c == "\\" {
                if let next = iterator.popFirst() { current.append(next) }
                inWord = true
            } else if let close = openingQuotes[c] {
                inWord = true
                var closed = false
                while let q = iterator.popFirst() {
                    if q == close || (close == "\"" && q == "”") {
                        closed = true
                        break
                    }
                    if q == "\\", c == "\"" || c == "“", let next = iterator.first, next == "\"" || next == "\\" {
                        current.append(iterator.removeFirst())
                    } else {
                        current.append(q)
                    }
                }
                if !closed { throw .unbalancedQuote(c) }
            } else if c.isWhitespace {
                if inWord { words.append(current) }
                current = ""
                inWord = false
            } else {
                current.append(c)
                inWord = true
            }
        }
        if inWord { words.append(current) }
        return words
    }
}
