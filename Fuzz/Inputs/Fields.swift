/// The input cut into at most `count` fields at newlines; the last field keeps the rest, newlines
/// included, and missing fields are empty. How FuzzSlack and FuzzSelector read their inputs.
public func fields(_ bytes: [UInt8], _ count: Int) -> [ArraySlice<UInt8>] {
    var parts = bytes.split(separator: UInt8(ascii: "\n"), maxSplits: count - 1, omittingEmptySubsequences: false)
    while parts.count < count { parts.append([]) }
    return parts
}
