/// A list of agents as audit rows name it: the first few, then an ellipsis, so that a row stays
/// small when ten thousand agents are meant.
public enum AgentNames {
    /// How many agents a row names.
    public static let named = 10

    /// The first `named` ids joined by commas, and ",…" when there are more.
    public static func abbreviated(_ ids: [String]) -> String {
        ids.prefix(named).joined(separator: ",") + (ids.count > named ? ",…" : "")
    }
}
