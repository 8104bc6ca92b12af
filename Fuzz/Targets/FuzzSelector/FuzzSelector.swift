import FuzzInputs
import FuzzSupport
import MeeseeksLabels

/// Label selectors (`-l`, `target.selector`, `on:`) and label sets (`mrmeeseeks --labels`).
///
/// Input: a selector on the first line; the rest, if any, is a label set. Checks: nothing crashes;
/// a parsed selector prints (`description`) as text that parses back to an equal selector; a parsed
/// label set prints as text that parses back to an equal set; a failed parse says why.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzSelector(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let parts = fields(input(data, size), 2)
    let selectorText = text(parts[0])
    let labelText = text(parts[1])

    let parsed = LabelSelector.parse(selectorText)
    guard let selector = parsed.selector else {
        check(!parsed.errors.isEmpty, "no selector and no error for \(selectorText.debugDescription)")
        return 0
    }
    check(parsed.errors.isEmpty, "a selector and errors for \(selectorText.debugDescription)")
    let printed = selector.description
    let again = LabelSelector.parse(printed)
    check(
        again.selector == selector,
        "\(selectorText.debugDescription) prints as \(printed.debugDescription), which parses to \(String(describing: again))")

    if let labels = try? LabelSet.parse(labelText) {
        check((try? LabelSet.parse(labels.description)) == labels, "label set \(labelText.debugDescription) does not round-trip")
        // Matching is total: it may be true or false, and it must not depend on the order of requirements.
        let reversed = LabelSelector(selector.requirements.reversed())
        check(selector.matches(labels) == reversed.matches(labels), "matching depends on order for \(selectorText.debugDescription)")
    }
    return 0
}
