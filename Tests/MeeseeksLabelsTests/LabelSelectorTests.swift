import MeeseeksLabels
import Testing

@Suite("Label selectors parse like Kubernetes'")
struct LabelSelectorParsingTests {
    @Test(
        "valid selectors print in normalised form",
        arguments: [
            ("", ""),
            ("x=a", "x=a"),
            ("x==a", "x==a"),
            ("x!=a", "x!=a"),
            ("x", "x"),
            ("!x", "!x"),
            ("x in (b,a)", "x in (a,b)"),
            ("x notin (b, a)", "x notin (a,b)"),
            ("  env in ( stg , prd ) ,  role = web ", "env in (prd,stg),role=web"),
            ("x=a,y!=b,z", "x=a,y!=b,z"),
            ("z,y!=b,x=a", "x=a,y!=b,z"),
            ("example.com/role=web", "example.com/role=web"),
            ("x=", "x="),
            ("x in (a,)", "x in (,a)"),
            ("x=in", "x=in"),
            ("x in (in,notin)", "x in (in,notin)"),
            ("a.b_c-d=E.f_G-h", "a.b_c-d=E.f_G-h"),
        ])
    func parsesValid(input: String, normalised: String) throws {
        let selector = try LabelSelector(input)
        #expect(selector.description == normalised)
        // Round trip: the normalised form parses to the same selector.
        #expect(try LabelSelector(selector.description) == selector)
    }

    @Test(
        "bad selectors name the token and its column",
        arguments: [
            ("x in (a,", "1:9: found end of string, expected: identifier or ')'"),
            ("x==a==b", "1:5: found '==', expected: ',' or end of string"),
            ("!x=a", "1:3: found '=', expected: ',' or end of string"),
            ("x in a", "1:6: found 'a', expected: '('"),
            ("x in (a b)", "1:9: found 'b', expected: ',' or ')'"),
            (",x", "1:1: found ',', expected: identifier"),
            ("x=a,", "1:5: found end of string, expected: identifier"),
            ("x=(", "1:3: found '(', expected: identifier"),
            ("x y", "1:3: found 'y', expected: '=', '==', '!=', 'in', 'notin', ',' or end of string"),
            ("=a", "1:1: found '=', expected: identifier"),
            ("!", "1:2: found end of string, expected: identifier"),
            ("x notin", "1:8: found end of string, expected: '('"),
            ("x in (a))", "1:9: found ')', expected: ',' or end of string"),
        ])
    func rejectsBadSyntax(input: String, expected: String) {
        let parsed = LabelSelector.parse(input)
        #expect(parsed.selector == nil)
        #expect(parsed.errors.map(\.description) == [expected])
    }

    @Test("invalid keys and values are all reported with their offsets")
    func collectsEveryValidationError() {
        let parsed = LabelSelector.parse("-bad=ok, good=-bad-, UPPER.com/x=y, k in (a, b_)")
        #expect(parsed.selector == nil)
        #expect(parsed.errors.map(\.offset) == [0, 14, 21, 45])
        #expect(parsed.errors[0].message.hasPrefix("invalid label key '-bad'"))
        #expect(parsed.errors[1].message.hasPrefix("invalid label value '-bad-'"))
        #expect(parsed.errors[2].message.contains("prefix part"))
    }

    @Test("a value longer than 63 characters is refused")
    func refusesLongValues() {
        let long = String(repeating: "a", count: 64)
        #expect(LabelSelector.parse("x=\(long)").errors.count == 1)
        #expect(LabelSelector.parse("x=\(long.dropLast())").errors.isEmpty)
    }

    @Test("the order of requirements does not change the selector")
    func isDeterministic() throws {
        #expect(try LabelSelector("x=a,a=x") == LabelSelector("a=x,x=a"))
        #expect(try LabelSelector("x=a,a=x").description == "a=x,x=a")
    }
}

@Suite("Label selectors match label sets")
struct LabelSelectorMatchingTests {
    static let web: LabelSet = ["env": "prd", "role": "web"]
    static let db: LabelSet = ["env": "stg", "role": "db"]
    static let bare: LabelSet = [:]

    @Test(
        "each operator matches as in Kubernetes",
        arguments: [
            ("env=prd", [true, false, false]),
            ("env==prd", [true, false, false]),
            ("env!=prd", [false, true, true]),
            ("env in (prd,stg)", [true, true, false]),
            ("env notin (prd)", [false, true, true]),
            ("env", [true, true, false]),
            ("!env", [false, false, true]),
            ("env in (prd,stg),role=web", [true, false, false]),
            ("", [true, true, true]),
            ("role=", [false, false, false]),
        ])
    func matches(selector: String, expected: [Bool]) throws {
        let parsed = try LabelSelector(selector)
        #expect([Self.web, Self.db, Self.bare].map { parsed.matches($0) } == expected)
    }

    @Test("and() intersects two selectors")
    func conjunction() throws {
        let both = try LabelSelector("env in (prd,stg)").and(LabelSelector("role=db"))
        #expect(both.matches(Self.db))
        #expect(!both.matches(Self.web))
    }
}

@Suite("Agent label sets")
struct LabelSetTests {
    @Test("k=v lists parse and print sorted")
    func parses() throws {
        #expect(try LabelSet.parse("role=web, env=prd").description == "env=prd,role=web")
        #expect(try LabelSet.parse("").values.isEmpty)
    }

    @Test(
        "bad label lists say what is wrong",
        arguments: [
            ("env", "'env' is not of the form key=value"),
            ("env=prd,env=stg", "label key 'env' is given twice"),
            ("-x=1", "invalid label key '-x': must begin and end with a letter or digit"),
            ("x=a b", "invalid label value 'a b' for key 'x': ' ' is not allowed; use letters, digits, '-', '_' or '.'"),
        ])
    func rejects(input: String, message: String) {
        #expect(throws: LabelSetError(message: message)) { try LabelSet.parse(input) }
    }
}
