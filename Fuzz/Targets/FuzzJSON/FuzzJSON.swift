import Foundation
import FuzzSupport
import MeeseeksSlack

/// The JSON reader and writer every Slack payload goes through.
///
/// Checks: reading never crashes; what is read, written back, reads as an equal value and writes
/// as the same bytes again; and what we write is JSON to Foundation too (it goes to Slack).
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzJSON(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    guard let value = JSON.decode(input(data, size)) else { return 0 }
    let written = value.encoded()
    guard let again = JSON.decode(written) else {
        fatalError("wrote text it cannot read: \(text(written).debugDescription)")
    }
    check(again == value, "\(value) was written as \(text(written).debugDescription), which reads as \(again)")
    check(again.encoded() == written, "writing is not stable for \(text(written).debugDescription)")
    check(
        (try? JSONSerialization.jsonObject(with: Data(written), options: [.fragmentsAllowed])) != nil,
        "Foundation refuses what we wrote: \(text(written).debugDescription)")
    return 0
}
