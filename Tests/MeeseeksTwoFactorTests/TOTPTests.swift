import Foundation
import MeeseeksTwoFactor
import Testing

@Suite("TOTP per RFC 6238")
struct TOTPTests {
    static let sha1 = Array("12345678901234567890".utf8)
    static let sha256 = Array("12345678901234567890123456789012".utf8)
    static let sha512 = Array("1234567890123456789012345678901234567890123456789012345678901234".utf8)

    /// RFC 6238 appendix B, all three algorithms, 8 digits.
    @Test(
        "the RFC's appendix B vectors",
        arguments: [
            (59.0, "94287082", "46119246", "90693936"),
            (1_111_111_109, "07081804", "68084774", "25091201"),
            (1_111_111_111, "14050471", "67062674", "99943326"),
            (1_234_567_890, "89005924", "91819424", "93441116"),
            (2_000_000_000, "69279037", "90698825", "38618901"),
            (20_000_000_000, "65353130", "77737706", "47863826"),
        ])
    func vectors(time: Double, sha1: String, sha256: String, sha512: String) {
        #expect(TOTP(secret: Self.sha1, algorithm: .sha1, digits: 8).code(at: time) == sha1)
        #expect(TOTP(secret: Self.sha256, algorithm: .sha256, digits: 8).code(at: time) == sha256)
        #expect(TOTP(secret: Self.sha512, algorithm: .sha512, digits: 8).code(at: time) == sha512)
    }

    @Test("a window of one step either way, and no further")
    func window() {
        let totp = TOTP(secret: Self.sha1)
        let now = 1_000_000.0
        #expect(totp.matchingStep(totp.code(at: now - 30), at: now) == totp.step(at: now) - 1)
        #expect(totp.matchingStep(totp.code(at: now + 30), at: now) == totp.step(at: now) + 1)
        #expect(totp.matchingStep(totp.code(at: now - 60), at: now) == nil)
        #expect(totp.matchingStep("12345", at: now) == nil)
    }

    @Test("base32 round trip and the otpauth URI")
    func base32() {
        #expect(Base32.encode(Array("foobar".utf8)) == "MZXW6YTBOI")
        #expect(Base32.decode("mzxw6ytboi======") == Array("foobar".utf8))
        #expect(Base32.decode("not base32!") == nil)
        let uri = TOTP(secret: Array("foobar".utf8)).uri(account: "U01SRE0001", issuer: "Meeseeks Box")
        #expect(
            uri == "otpauth://totp/Meeseeks%20Box%3AU01SRE0001?secret=MZXW6YTBOI&issuer=Meeseeks%20Box&algorithm=SHA1&digits=6&period=30")
    }
}

@Suite("The agent's gate: secrets, replay, lock-out")
struct TwoFactorGateTests {
    func secrets(_ text: String, mode: mode_t = 0o600) throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("secrets-\(UUID().uuidString)").path
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        chmod(path, mode)
        return path
    }

    let secret = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"  // base32 of the RFC's SHA-1 key
    var totp: TOTP { TOTP(secret: Base32.decode(secret)!) }

    @Test("a right code is accepted once; the same code again is refused")
    func replay() throws {
        let gate = TwoFactorGate(secrets: try secrets("U1 \(secret)\n"))
        let now = 1_700_000_000.0
        #expect(gate.verify(user: "U1", code: totp.code(at: now), at: now) == .accepted)
        #expect(gate.verify(user: "U1", code: totp.code(at: now), at: now + 1) == .reused)
        // An older step is refused too, even inside the window.
        #expect(gate.verify(user: "U1", code: totp.code(at: now - 30), at: now + 2) == .reused)
        #expect(gate.verify(user: "U1", code: totp.code(at: now + 30), at: now + 30) == .accepted)
    }

    @Test("used codes are remembered across a restart of the agent")
    func replayAcrossRestart() throws {
        let path = try secrets("U1 \(secret)\n")
        let now = 1_700_000_000.0
        #expect(TwoFactorGate(secrets: path).verify(user: "U1", code: totp.code(at: now), at: now) == .accepted)
        #expect(TwoFactorGate(secrets: path).verify(user: "U1", code: totp.code(at: now), at: now + 1) == .reused)
    }

    @Test("five failures are allowed; the sixth attempt is locked out until the window passes")
    func lockout() throws {
        let gate = TwoFactorGate(secrets: try secrets("U1 \(secret)\nU2 \(secret)\n"))
        let now = 1_700_000_000.0
        var verdicts: [TwoFactorGate.Verdict] = []
        for i in 0..<5 { verdicts.append(gate.verify(user: "U1", code: "000000", at: now + Double(i))) }
        #expect(
            verdicts == [
                .wrongCode(remaining: 4), .wrongCode(remaining: 3), .wrongCode(remaining: 2), .wrongCode(remaining: 1),
                .wrongCode(remaining: 0),
            ])
        // Locked: even the right code is refused now.
        #expect(gate.verify(user: "U1", code: totp.code(at: now + 10), at: now + 10) == .lockedOut(retryAfter: 290))
        // Another user is not affected.
        #expect(gate.verify(user: "U2", code: totp.code(at: now + 10), at: now + 10) == .accepted)
        // After the window, the lock-out lifts.
        #expect(gate.verify(user: "U1", code: totp.code(at: now + 301), at: now + 301) == .accepted)
    }

    @Test("a code for another user, an unknown user, loose or corrupt files")
    func badInput() throws {
        let other = TOTP(secret: Array("another secret 12345".utf8))
        let now = 1_700_000_000.0
        let gate = TwoFactorGate(secrets: try secrets("U1 \(secret)\n"))
        #expect(gate.verify(user: "U1", code: other.code(at: now), at: now) == .wrongCode(remaining: 4))
        #expect(gate.verify(user: "U9", code: totp.code(at: now), at: now) == .noSecret)
        let loose = try secrets("U1 \(secret)\n", mode: 0o644)
        guard case .unavailable(let why) = TwoFactorGate(secrets: loose).verify(user: "U1", code: totp.code(at: now), at: now) else {
            Issue.record("a loose file was used")
            return
        }
        #expect(why.contains("is readable or writable by others (mode 644); run chmod 600"))
        let corrupt = try secrets("U1 not-base32!\n")
        guard case .unavailable(let problem) = TwoFactorGate(secrets: corrupt).verify(user: "U1", code: "123456", at: now) else {
            Issue.record("a corrupt file was used")
            return
        }
        #expect(problem.hasSuffix(":1: the secret is not base32 of at least 80 bits"))
        #expect(TwoFactorGate(secrets: "/nonexistent/secrets").verify(user: "U1", code: "1", at: now) != .accepted)
    }
}
