import MeeseeksCore
import Testing

/// `JobHistoryStore`: output, capped with one marker, read back in windows.
extension JobHistoryStoreConformance {
    /// The marker a store writes after the kept bytes, exactly.
    static func marker(limit: Int) -> [UInt8] {
        bytes("\n[… output truncated: this job printed more than \(limit) bytes; the rest was not kept …]\n")
    }

    @Test("output beyond the cap is dropped, with one marker after the kept bytes", arguments: StoreFactory.all)
    func outputCap(_ factory: StoreFactory) throws {
        let store = try factory.make()
        let one = try store.add(job())
        try store.appendOutput(one.id, bytes("hello "), limit: 10)
        #expect(try store.outputSize(one.id) == 6)
        try store.appendOutput(one.id, bytes("world, and more"), limit: 10)
        try store.appendOutput(one.id, bytes("even more"), limit: 10)
        try store.appendOutput(one.id, bytes("and more"), limit: 10)
        let kept = bytes("hello worl") + Self.marker(limit: 10)
        #expect(try store.output(one.id, from: 0, limit: 1000) == kept)
        #expect(try store.outputSize(one.id) == kept.count)  // the marker counts
    }

    @Test("output that fills the cap exactly gets its marker only when more comes", arguments: StoreFactory.all)
    func outputExactFill(_ factory: StoreFactory) throws {
        let store = try factory.make()
        let one = try store.add(job())
        try store.appendOutput(one.id, bytes("0123456789"), limit: 10)
        #expect(try store.output(one.id, from: 0, limit: 100) == bytes("0123456789"))
        try store.appendOutput(one.id, bytes("x"), limit: 10)
        #expect(try store.output(one.id, from: 0, limit: 100) == bytes("0123456789") + Self.marker(limit: 10))
        let big = try store.add(job())
        try store.appendOutput(big.id, bytes("abcdef"), limit: 3)  // cut in the first chunk
        #expect(try store.output(big.id, from: 0, limit: 100) == bytes("abc") + Self.marker(limit: 3))
    }

    @Test("empty output, an unknown job and other jobs' output change nothing", arguments: StoreFactory.all)
    func outputIsolation(_ factory: StoreFactory) throws {
        let store = try factory.make()
        let one = try store.add(job())
        let two = try store.add(job())
        try store.appendOutput(one.id, [], limit: 10)
        try store.appendOutput(99, bytes("lost"), limit: 10)
        try store.appendOutput(two.id, bytes("two"), limit: 10)
        #expect(try store.outputSize(one.id) == 0 && store.output(one.id, from: 0, limit: 10).isEmpty)
        #expect(try store.outputSize(99) == 0 && store.output(99, from: 0, limit: 10).isEmpty)
        #expect(try store.output(two.id, from: 0, limit: 10) == bytes("two"))
        #expect(try store.job(99) == nil)
    }

    static let windows: [(offset: Int, limit: Int, expected: String)] = [
        (0, 100, "abcdefghi"),
        (0, 3, "abc"),
        (2, 5, "cdefg"),  // across chunks
        (3, 3, "def"),
        (8, 100, "i"),
        (9, 100, ""),
        (100, 5, ""),
        (4, 0, ""),
        (3, -5, ""),
        (-1, 2, "ab"),
        (Int.min, 3, "abc"),
        (Int.min, Int.min, ""),
        (0, Int.max, "abcdefghi"),
        (3, Int.max, "defghi"),
        (Int.max, 1 << 20, ""),
        (Int.max - 1, Int.max, ""),
        (Int.max, Int.max, ""),
    ]

    @Test(
        "output is read in windows; offsets near Int.max and negative limits read nothing", arguments: StoreFactory.all)
    func outputWindows(_ factory: StoreFactory) throws {
        let store = try factory.make()
        let one = try store.add(job())
        for chunk in ["abc", "def", "ghi"] { try store.appendOutput(one.id, bytes(chunk), limit: 100) }
        #expect(try store.outputSize(one.id) == 9)
        for window in Self.windows {
            #expect(
                try store.output(one.id, from: window.offset, limit: window.limit) == bytes(window.expected),
                "\(window)")
        }
    }

    @Test("output stays readable after its job ends", arguments: StoreFactory.all)
    func outputAfterEnd(_ factory: StoreFactory) throws {
        let store = try factory.make()
        let running = try store.addRunning()
        try store.appendOutput(running.id, bytes("partial"), limit: 100)
        _ = try store.finish(running.id, attempt: 1, outcome: JobOutcome(status: .succeeded), at: 1002)
        #expect(try store.output(running.id, from: 0, limit: 100) == bytes("partial"))
        #expect(try store.outputSize(running.id) == 7)
    }
}
