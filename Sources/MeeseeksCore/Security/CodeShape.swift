/// What a two-factor code looks like before anyone checks it: 6 to 8 digits, spaces allowed
/// between them. One rule for the Slack modal, the terminal and the interpreter.
public enum CodeShape {
    /// The digits of `code`, spaces removed.
    public static func digits(_ code: String) -> String {
        code.filter { !$0.isWhitespace }
    }

    /// Nil when `code` has the shape of a code, else what to tell the user.
    public static func problem(_ code: String) -> String? {
        let digits = digits(code)
        return digits.count >= 6 && digits.count <= 8 && digits.allSatisfy(\.isASCII) && digits.allSatisfy(\.isNumber)
            ? nil : "A code is 6 to 8 digits from your authenticator app."
    }
}
