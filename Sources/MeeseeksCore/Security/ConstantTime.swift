/// Comparisons of secrets that take the same time wherever the first difference is.
public enum ConstantTime {
    public static func equals(_ a: some Collection<UInt8>, _ b: some Collection<UInt8>) -> Bool {
        var difference = UInt8(truncatingIfNeeded: a.count ^ b.count)
        // Walk the longer input fully so the time depends on lengths only.
        let length = max(a.count, b.count)
        var ia = a.makeIterator()
        var ib = b.makeIterator()
        for _ in 0..<length {
            difference |= (ia.next() ?? 0) ^ (ib.next() ?? 0)
        }
        return difference == 0
    }

    public static func equals(_ a: String, _ b: String) -> Bool {
        equals(Array(a.utf8), Array(b.utf8))
    }
}
