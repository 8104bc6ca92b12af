import MeeseeksCore
import Testing

@Suite("Constant-time comparison")
struct ConstantTimeTests {
    @Test(
        "equal only when every byte and the length match",
        arguments: [
            ("s3cret-token", "s3cret-token", true),
            ("s3cret-token", "s3cret-tokeN", false),
            ("s3cret-token", "s3cret-toke", false),
            ("", "", true),
            ("", "x", false),
        ])
    func strings(_ a: String, _ b: String, _ equal: Bool) {
        #expect(ConstantTime.equals(a, b) == equal)
        #expect(ConstantTime.equals(b, a) == equal)
    }

    @Test("lengths 256 apart are not mistaken for equal")
    func lengthsAMultipleOf256Apart() {
        #expect(!ConstantTime.equals([], [UInt8](repeating: 0, count: 256)))
        #expect(!ConstantTime.equals([1, 2], [1, 2] + [UInt8](repeating: 0, count: 512)))
    }
}
