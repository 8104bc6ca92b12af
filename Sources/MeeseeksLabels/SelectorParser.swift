/// A recursive-descent parser over the lexer's tokens, after Kubernetes' `labels.Parser`.
///
/// It scans every token first, then walks them with `lookahead` and `consume`; in a value position
/// `in` and `notin` are read as plain identifiers.
struct SelectorParser {
    private let tokens: [PositionedToken]
    private var position = 0
    private var errors: [SelectorError] = []

    init(_ text: String) {
        var lexer = SelectorLexer(text)
        tokens = lexer.tokens()
    }

    private struct SyntaxError: Error {
        var error: SelectorError
    }

    mutating func parse() -> (selector: LabelSelector?, errors: [SelectorError]) {
        var requirements: [Requirement] = []
        if case .end = lookahead.token { return (LabelSelector.everything, []) }
        do throws(SyntaxError) {
            while true {
                requirements.append(try parseRequirement())
                let token = consume()
                switch token.token {
                case .comma: continue
                case .end:
                    return errors.isEmpty ? (LabelSelector(requirements), []) : (nil, errors)
                default:
                    throw unexpected(token, expected: "',' or end of string")
                }
            }
        } catch {
            return (nil, errors + [error.error])
        }
    }

    private var lookahead: PositionedToken { tokens[position] }

    private mutating func consume() -> PositionedToken {
        let token = tokens[position]
        if position < tokens.count - 1 { position += 1 }
        return token
    }

    private func unexpected(_ token: PositionedToken, expected: String) -> SyntaxError {
        SyntaxError(error: SelectorError(offset: token.offset, message: "found \(token.token.shown), expected: \(expected)"))
    }

    private mutating func parseRequirement() throws(SyntaxError) -> Requirement {
        var negated = false
        if case .doesNotExist = lookahead.token {
            negated = true
            _ = consume()
        }
        let keyToken = consume()
        guard case .identifier(let key) = keyToken.token else {
            throw unexpected(keyToken, expected: "identifier")
        }
        checkKey(key, at: keyToken.offset)
        if negated { return Requirement(key: key, op: .doesNotExist) }

        let opToken = lookahead
        let op: Requirement.Operator
        switch opToken.token {
        case .comma, .end: return Requirement(key: key, op: .exists)
        case .equals: op = .equals
        case .doubleEquals: op = .doubleEquals
        case .notEquals: op = .notEquals
        case .in: op = .in
        case .notIn: op = .notIn
        default: throw unexpected(opToken, expected: "'=', '==', '!=', 'in', 'notin', ',' or end of string")
        }
        _ = consume()
        switch op {
        case .in, .notIn:
            return Requirement(key: key, op: op, values: try parseValueSet())
        default:
            return Requirement(key: key, op: op, values: [try parseExactValue()])
        }
    }

    private mutating func parseExactValue() throws(SyntaxError) -> String {
        let token = lookahead
        switch token.token {
        case .identifier(let value):
            _ = consume()
            checkValue(value, at: token.offset)
            return value
        case .in, .notIn:
            _ = consume()
            return token.token == .in ? "in" : "notin"
        case .comma, .end:
            // `k=` selects an empty value, as in Kubernetes.
            return ""
        default:
            throw unexpected(token, expected: "identifier")
        }
    }

    private mutating func parseValueSet() throws(SyntaxError) -> [String] {
        let open = consume()
        guard case .openParen = open.token else { throw unexpected(open, expected: "'('") }
        var values: [String] = []
        var expectingValue = true
        while true {
            let token = consume()
            switch token.token {
            case .identifier(let value) where expectingValue:
                checkValue(value, at: token.offset)
                values.append(value)
                expectingValue = false
            case .in where expectingValue, .notIn where expectingValue:
                values.append(token.token == .in ? "in" : "notin")
                expectingValue = false
            case .comma:
                if expectingValue { values.append("") }
                expectingValue = true
            case .closeParen:
                if expectingValue { values.append("") }
                return values
            default:
                throw unexpected(token, expected: expectingValue ? "identifier or ')'" : "',' or ')'")
            }
        }
    }

    private mutating func checkKey(_ key: String, at offset: Int) {
        if let problem = LabelRules.keyProblem(key) {
            errors.append(SelectorError(offset: offset, message: "invalid label key '\(key)': \(problem)"))
        }
    }

    private mutating func checkValue(_ value: String, at offset: Int) {
        if let problem = LabelRules.valueProblem(value) {
            errors.append(SelectorError(offset: offset, message: "invalid label value '\(value)': \(problem)"))
        }
    }
}
