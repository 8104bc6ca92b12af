/// Slack's Block Kit limits (reference/slack.md §4), and a validator every payload the box sends
/// passes. Slack's own SDK checks only some of these; this table checks them all.
public enum BlockKitLimits {
    public static let messageBlocks = 50
    public static let modalBlocks = 100
    public static let sectionText = 3000
    public static let sectionFields = 10
    public static let fieldText = 2000
    public static let blockID = 255
    public static let buttonText = 75
    public static let actionID = 255
    public static let buttonValue = 2000
    public static let selectOptions = 100
    public static let optionGroups = 100
    public static let optionText = 75
    public static let optionValue = 150
    public static let optionDescription = 75
    public static let placeholder = 150
    public static let actionsElements = 25
    public static let contextElements = 10
    public static let header = 150
    public static let inputLabel = 2000
    public static let inputLength = 3000
    public static let modalTitle = 24
    public static let modalButton = 24
    public static let privateMetadata = 3000
    public static let callbackID = 255
    public static let messageText = 4000

    public enum Surface: Sendable { case message, modal }

    /// Every limit a list of blocks breaks, as readable paths: `blocks[2].text.text: 3012 > 3000`.
    public static func violations(of blocks: [JSON], on surface: Surface) -> [String] {
        var found: [String] = []
        let maxBlocks = surface == .message ? messageBlocks : modalBlocks
        if blocks.count > maxBlocks { found.append("blocks: \(blocks.count) > \(maxBlocks)") }
        for (i, block) in blocks.enumerated() { check(block, "blocks[\(i)]", &found) }
        return found
    }

    /// Limits of a modal view, its blocks included.
    public static func violations(ofModal view: JSON) -> [String] {
        var found: [String] = []
        length(view["title"]?["text"], modalTitle, "view.title", &found)
        length(view["submit"]?["text"], modalButton, "view.submit", &found)
        length(view["close"]?["text"], modalButton, "view.close", &found)
        length(view["private_metadata"], privateMetadata, "view.private_metadata", &found)
        length(view["callback_id"], callbackID, "view.callback_id", &found)
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
        length(block["block_id"], blockID, "\(path).block_id", &found)
        switch block["type"]?.string {
        case "section":
            length(block["text"]?["text"], sectionText, "\(path).text", &found, minimum: block["text"] == nil ? 0 : 1)
            let fields = block["fields"]?.array ?? []
            if fields.count > sectionFields { found.append("\(path).fields: \(fields.count) > \(sectionFields)") }
            for (i, field) in fields.enumerated() { length(field["text"], fieldText, "\(path).fields[\(i)]", &found) }
            if block["text"] == nil, fields.isEmpty { found.append("\(path): a section needs text or fields") }
            if let accessory = block["accessory"] { element(accessory, "\(path).accessory", &found) }
        case "actions":
            let elements = block["elements"]?.array ?? []
            if elements.count > actionsElements { found.append("\(path).elements: \(elements.count) > \(actionsElements)") }
            var ids: Set<String> = []
            for (i, e) in elements.enumerated() {
                element(e, "\(path).elements[\(i)]", &found)
                if let id = e["action_id"]?.string, !ids.insert(id).inserted {
                    found.append("\(path).elements[\(i)].action_id: '\(id)' is not unique in its block")
                }
            }
        case "context":
            let elements = block["elements"]?.array ?? []
            if elements.count > contextElements { found.append("\(path).elements: \(elements.count) > \(contextElements)") }
            for (i, e) in elements.enumerated() { length(e["text"], sectionText, "\(path).elements[\(i)]", &found) }
        case "header":
            length(block["text"]?["text"], header, "\(path).text", &found)
        case "input":
            length(block["label"]?["text"], inputLabel, "\(path).label", &found)
            length(block["hint"]?["text"], inputLabel, "\(path).hint", &found)
            if let e = block["element"] { element(e, "\(path).element", &found) }
        case "divider":
            break
        default:
            found.append("\(path).type: '\(block["type"]?.string ?? "?")' is not a block type the box sends")
        }
    }

    static func element(_ e: JSON, _ path: String, _ found: inout [String]) {
        length(e["action_id"], actionID, "\(path).action_id", &found)
        switch e["type"]?.string {
        case "button":
            length(e["text"]?["text"], buttonText, "\(path).text", &found)
            length(e["value"], buttonValue, "\(path).value", &found)
            if e["text"]?["type"]?.string != "plain_text" { found.append("\(path).text: a button's text must be plain_text") }
            if let style = e["style"]?.string, style != "primary", style != "danger" {
                found.append("\(path).style: '\(style)' is not primary or danger")
            }
            if let confirm = e["confirm"] { confirmObject(confirm, "\(path).confirm", &found) }
        case "static_select":
            length(e["placeholder"]?["text"], placeholder, "\(path).placeholder", &found)
            let options = e["options"]?.array ?? []
            let groups = e["option_groups"]?.array ?? []
            if options.count > selectOptions { found.append("\(path).options: \(options.count) > \(selectOptions)") }
            if groups.count > optionGroups { found.append("\(path).option_groups: \(groups.count) > \(optionGroups)") }
            for (i, o) in options.enumerated() { option(o, "\(path).options[\(i)]", &found) }
            for (g, group) in groups.enumerated() {
                let grouped = group["options"]?.array ?? []
                if grouped.count > selectOptions { found.append("\(path).option_groups[\(g)].options: \(grouped.count) > \(selectOptions)") }
                for (i, o) in grouped.enumerated() { option(o, "\(path).option_groups[\(g)].options[\(i)]", &found) }
            }
        case "plain_text_input":
            length(e["placeholder"]?["text"], placeholder, "\(path).placeholder", &found)
            if let min = e["min_length"]?.number, !(0...Double(inputLength)).contains(min) {
                found.append("\(path).min_length: \(Int(min)) outside 0…\(inputLength)")
            }
            if let max = e["max_length"]?.number, !(1...Double(inputLength)).contains(max) {
                found.append("\(path).max_length: \(Int(max)) outside 1…\(inputLength)")
            }
        default:
            found.append("\(path).type: '\(e["type"]?.string ?? "?")' is not an element the box sends")
        }
    }

    static func option(_ o: JSON, _ path: String, _ found: inout [String]) {
        length(o["text"]?["text"], optionText, "\(path).text", &found)
        length(o["value"], optionValue, "\(path).value", &found)
        length(o["description"]?["text"], optionDescription, "\(path).description", &found)
    }

    static func confirmObject(_ c: JSON, _ path: String, _ found: inout [String]) {
        for (key, limit) in [("title", 100), ("text", 300), ("confirm", 30), ("deny", 30)] {
            if c[key] == nil { found.append("\(path).\(key): missing") }
            length(c[key]?["text"], limit, "\(path).\(key)", &found)
        }
    }
}
