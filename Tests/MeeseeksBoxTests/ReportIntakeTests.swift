import Testing

@testable import MeeseeksBox

/// Output reports as the box takes them: repeats skipped, gaps marked, never joined silently, and
/// a job's end held back while output the store refused is missing.
@Suite("ReportIntake: output arrives once, in order, with every gap said")
struct ReportIntakeTests {
    func text(_ bytes: [UInt8]?) -> String? { bytes.map { String(decoding: $0, as: UTF8.self) } }

    @Test("a repeated chunk is skipped, an overlapping one keeps only what is new")
    func repeats() {
        var intake = ReportIntake()
        #expect(text(intake.fresh(1, offset: 0, bytes: Array("abc".utf8), isTail: false, stored: { 0 })) == "abc")
        #expect(intake.fresh(1, offset: 0, bytes: Array("abc".utf8), isTail: false, stored: { 0 }) == nil)
        #expect(text(intake.fresh(1, offset: 1, bytes: Array("bcde".utf8), isTail: false, stored: { 0 })) == "de")
    }

    @Test("a live chunk past a gap waits for the tail, which is kept with a marker")
    func gapAfterDisconnect() {
        var intake = ReportIntake()
        _ = intake.fresh(1, offset: 0, bytes: Array("ab".utf8), isTail: false, stored: { 0 })
        #expect(intake.fresh(1, offset: 5, bytes: Array("fg".utf8), isTail: false, stored: { 2 }) == nil)
        let tail = text(intake.fresh(1, offset: 4, bytes: Array("efg".utf8), isTail: true, stored: { 2 }))
        #expect(tail == "\n[… 2 bytes of output were lost while the agent was disconnected …]\nefg")
    }

    @Test("after the store refused a chunk, live output goes on past a marker, and the end waits for a stored tail")
    func refusedWrite() {
        var intake = ReportIntake()
        _ = intake.fresh(1, offset: 0, bytes: Array("ab".utf8), isTail: false, stored: { 0 })
        _ = intake.fresh(1, offset: 2, bytes: Array("cd".utf8), isTail: false, stored: { 0 })
        intake.failedToStore(1)  // "cd" never reached the store, which holds 2 bytes
        #expect(intake.missesOutput(1))
        let live = text(intake.fresh(1, offset: 4, bytes: Array("ef".utf8), isTail: false, stored: { 2 }))
        #expect(live == "\n[… 2 bytes of output could not be stored …]\nef")
        #expect(intake.missesOutput(1), "a live chunk does not make up for what was refused")
        #expect(intake.fresh(1, offset: 2, bytes: Array("cdef".utf8), isTail: true, stored: { 99 }) == nil)
        intake.storedTail(1)
        #expect(!intake.missesOutput(1))
        intake.failedToStore(2)
        intake.forget(2)
        #expect(!intake.missesOutput(2))
    }
}
