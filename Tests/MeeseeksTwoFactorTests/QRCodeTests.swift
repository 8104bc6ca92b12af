import MeeseeksTwoFactor
import Testing

/// Module-level agreement with python-qrcode is tested in Tests/twofactor/test_qr.py; these check
/// the edges.
@Suite("QR codes")
struct QRCodeTests {
    @Test("the smallest version that holds the bytes, with finders in three corners")
    func smallest() throws {
        let code = try QRCode(Array("otpauth://totp".utf8))  // 14 bytes: version 1 at level M
        #expect(code.version == 1)
        #expect(code.size == 21)
        #expect(try QRCode(Array("otpauth://totp/".utf8)).version == 2)
        for (row, column) in [(0, 0), (0, 14), (14, 0)] {
            #expect(code.modules[row][column] && code.modules[row + 6][column + 6] && code.modules[row + 3][column + 3])
            #expect(!code.modules[row + 1][column + 1] && !code.modules[row + 5][column + 5])
        }
    }

    @Test("byte capacity at level M: 213 bytes in version 10, 666 in version 20, no more")
    func capacity() throws {
        #expect(try QRCode([UInt8](repeating: 65, count: 213)).version == 10)
        #expect(try QRCode([UInt8](repeating: 65, count: 214)).version == 11)
        #expect(try QRCode([UInt8](repeating: 65, count: 666)).version == 20)
        #expect(throws: QRCode.Failure.tooLong(667)) { try QRCode([UInt8](repeating: 65, count: 667)) }
    }

    @Test("a chosen mask is kept; without one, one of the eight is chosen")
    func masks() throws {
        let data = Array("otpauth://totp/Meeseeks%20Box:U1?secret=ABC".utf8)
        for mask in 0..<8 { #expect(try QRCode(data, mask: mask).mask == mask) }
        #expect((0..<8).contains(try QRCode(data).mask))
    }

    @Test("the terminal text is two rows per line with a four-module quiet zone")
    func terminal() throws {
        let code = try QRCode(Array("hello".utf8))
        let lines = code.terminalText().split(separator: "\n")
        #expect(lines.count == (code.size + 8 + 1) / 2)
        #expect(lines.allSatisfy { $0.hasPrefix("\u{1B}[30;47m") && $0.hasSuffix("\u{1B}[0m") })
    }
}
