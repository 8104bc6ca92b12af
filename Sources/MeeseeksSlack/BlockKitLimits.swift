import MeeseeksConfig

/// A validator every payload the box sends passes, against Slack's Block Kit limits
/// (`SlackLimits`, reference/slack.md §4). Slack's own SDK checks only some of them; this checks
/// them all.
public enum BlockKitLimits {
    public enum Surface: Sendable { case message, modal }

    /// Every limit a list of blocks breaks, as readable paths: `blocks[2].text.text: 3012 > 3000`.
    public static func violations(of blocks: [JSON], on surface: Surface) -> [String] {
        var found: [String] = []
        let maxBlocks = surface == .message ? SlackLimits.messageBlocks : SlackLimits.modalBlocks
        if blocks.count > maxBlocks { found.append("blocks: \(blocks.count) > \(maxBlocks)") }
        for (i, block) in blocks.enumerated() { check(block, "blocks[\(i)]", &found) }
        return found
    }

    /// Limits of a modal view, its blocks included.
    public static func violations(ofModal view: JSON) -> [String] {
        var found: [String] = []
        length(view["title"]?["text"], SlackLimits.modalTitle, "view.title", &found)
        length(view["submit"]?["text"], SlackLimits.modalButton, "view.submit", &found)
        length(view["close"]?["text"], SlackLimits.modalButton, "view.close", &found)
        length(view["private_metadata"], SlackLimits.privateMetadata, "view.private_metadata", &found)
        length(view["callback_id"], SlackLimits.callbackID, "view.callback_id", &found)
        if view["title"] == nil { found.append("view.title: missing") }
        let blocks = view["blocks"]?.array ?? []
        if blocks.contains(where: { $0["type"]?.string == "input" }), view["submit"] == nil {
            found.append("view.submit: required with input blocks")
        }
        return found + violations(of: blocks, on: .modal)
    }

    static func length(_ value: JSON?, _ limit: Int, _ path: String, _ found: inout [String], minimum: Int = 0) {
        guard let text = value?.string else { return }
        if text.count > limit { found.append("\(path): \(text.count) > \(limit)") }
        if text.count < minimum { found.append("\(path): \(text.count) < \(minimum)") }
    }

    static func check(_ block: JSON, _ path: String, _ found: inout [String]) {
        length(block["block_id"], SlackLimits.blockID, "\(path).block_id", &found)
        switch block["type"]?.string {
        case "section":
            length(block["text"]?["text"], SlackLimits.sectionText, "\(path).text", &found, minimum: block["text"] == nil ? 0 : 1)
            let fields = block["fields"]?.array ?? []
            if fields.count > SlackLimits.sectionFields { found.append("\(path).fields: \(fields.count) > \(SlackLimits.sectionFields)") }
            for (i, field) in fields.enumerated() { length(field["text"], SlackLimits.fieldText, "\(path).fields[\(i)]", &found) }
            if block["text"] == nil, fields.isEmpty { found.append("\(path): a section needs text or fields") }
            if let accessory = block["accessory"] { element(accessory, "\(path).accessory", &found) }
        case "actions":
            let elements = block["elements"]?.array ?? []
            if elements.count > SlackLimits.actionsElements {
                found.append("\(path).elements: \(elements.count) > \(SlackLimits.actionsElements)")
            }
            var ids: Set<String> = []
            for (i, e) in elements.enumerated() {
                element(e, "\(path).elements[\(i)]", &found)
                if let id = e["action_id"]?.string, !ids.insert(id).inserted {
                    found.append("\(path).elements[\(i)].action_id: '\(id)' is not unique in its block")
                }
            }
        case "context":
            let elements = block["elements"]?.array ?? []
            if elements.count > SlackLimits.contextElements {
                found.append("\(path).elements: \(elements.count) > \(SlackLimits.contextElements)")
            }
            for (i, e) in elements.enumerated() { length(e["text"], SlackLimits.sectionText, "\(path).elements[\(i)]", &found) }
        case "header":
            length(block["text"]?["text"], SlackLimits.header, "\(path).text", &found)
        case "input":
            length(block["label"]?["text"], SlackLimits.inputLabel, "\(path).label", &found)
            length(block["hint"]?["text"], SlackLimits.inputLabel, "\(path).hint", &found)
            if let e = block["element"] { element(e, "\(path).element", &found) }
        case "divider":
            break
        default:
            found.append("\(path).type: '\(block["type"]?.string ?? "?")' is not a block type the box sends")
        }
    }

    static func element(_ e: JSON, _ path: String, _ found: inout [String]) {
        length(e["action_id"], SlackLimits.actionID, "\(path).action_id", &found)
        switch e["type"]?.string {
        case "button":
            length(e["text"]?["text"], SlackLimits.buttonText, "\(path).text", &found)
            length(e["value"], SlackLimits.buttonValue, "\(path).value", &found)
            if e["text"]?["type"]?.string != "plain_text" { found.append("\(path).text: a button's text must be plain_text") }
            if let style = e["style"]?.string, style != "primary", style != "danger" {
                found.append("\(path).style: '\(style)' is not primary or danger")
            }
            if let confirm = e["confirm"] { confirmObject(confirm, "\(path).confirm", &found) }
        case "static_select":
            length(e["placeholder"]?["text"], SlackLimits.placeholder, "\(path).placeholder", &found)
            let options = e["options"]?.array ?? []
            let groups = e["option_groups"]?.array ?? []
            if options.count > SlackLimits.selectOptions {
                found.append("\(path).options: \(options.count) > \(SlackLimits.selectOptions)")
            }
            if groups.count > SlackLimits.optionGroups {
                found.append("\(path).option_groups: \(groups.count) > \(SlackLimits.optionGroups)")
            }
            for (i, o) in options.enumerated() { option(o, "\(path).options[\(i)]", &found) }
            for (g, group) in groups.enumerated() {
                let grouped = group["options"]?.array ?? []
                if grouped.count > SlackLimits.selectOptions {
                    found.append("\(path).option_groups[\(g)].options: \(grouped.count) > \(SlackLimits.selectOptions)")
                }
                for (i, o) in grouped.enumerated() { option(o, "\(path).option_groups[\(g)].options[\(i)]", &found) }
            }
        case "plain_text_input":
            length(e["placeholder"]?["text"], SlackLimits.placeholder, "\(path).placeholder", &found)
            if let min = e["min_length"]?.number, !(0...Double(SlackLimits.inputLength)).contains(min) {
                found.append("\(path).min_length: \(Int(min)) outside 0…\(SlackLimits.inputLength)")
            }
            if let max = e["max_length"]?.number, !(1...Double(SlackLimits.inputLength)).contains(max) {
                found.append("\(path).max_length: \(Int(max)) outside 1…\(SlackLimits.inputLength)")
            }
        default:
            found.append("\(path).type: '\(e["type"]?.string ?? "?")' is not an element the box sends")
        }
    }

    static func option(_ o: JSON, _ path: String, _ found: inout [String]) {
        length(o["text"]?["text"], SlackLimits.optionText, "\(path).text", &found)
        length(o["value"], SlackLimits.optionValue, "\(path).value", &found)
        length(o["description"]?["text"], SlackLimits.optionDescription, "\(path).description", &found)
    }

    static func confirmObject(_ c: JSON, _ path: String, _ found: inout [String]) {
        for (key, limit) in [("title", 100), ("text", 300), ("confirm", 30), ("deny", 30)] {
            if c[key] == nil { found.append("\(path).\(key): missing") }
            length(c[key]?["text"], limit, "\(path).\(key)", &found)
        }
    }
}
