/// The Slack app manifest for a Meeseeks Box (YAML), valid against Slack's manifest schema 1.0.0.
public enum SlackManifest {
    public static let scopes = ["app_mentions:read", "chat:write", "commands", "im:history", "im:read", "im:write", "users:read"]

    /// - Parameters:
    ///   - socketMode: Socket Mode needs no public URL; HTTP mode points Slack at `baseURL`.
    ///   - baseURL: where the box's `/slack/...` routes are reachable, for HTTP mode.
    public static func yaml(name: String = "Mr Meeseeks", socketMode: Bool, baseURL: String?) -> String {
        let base = (baseURL ?? "https://meeseeks.example.com").trimmingSuffix("/")
        var lines = [
            "_metadata:",
            "  major_version: 1",
            "  minor_version: 1",
            "display_information:",
            "  name: \(quote(String(name.prefix(35))))",
            "  description: \(quote("ChatOps: request a job, confirm, and the Meeseek runs it on your agents."))",
            "  background_color: \"#3b82c4\"",
            "features:",
            "  app_home:",
            "    home_tab_enabled: false",
            "    messages_tab_enabled: true",
            "    messages_tab_read_only_enabled: false",
            "  bot_user:",
            "    display_name: mrmeeseeks",
            "    always_online: true",
            "  slash_commands:",
            "    - command: /meeseeks",
        ]
        if !socketMode { lines.append("      url: \(base)/slack/commands") }
        lines += [
            "      description: \(quote("Ask Mr Meeseeks to run a command"))",
            "      usage_hint: \(quote("[command] [name=value ...] [-l selector] | help"))",
            "      should_escape: false",
            "oauth_config:",
            "  scopes:",
            "    bot:",
        ]
        lines += scopes.map { "      - \($0)" }
        lines += ["settings:", "  event_subscriptions:"]
        if !socketMode { lines.append("    request_url: \(base)/slack/events") }
        lines += ["    bot_events:", "      - app_mention", "      - message.im", "  interactivity:", "    is_enabled: true"]
        if !socketMode { lines.append("    request_url: \(base)/slack/interactivity") }
        lines += [
            "  org_deploy_enabled: false",
            "  socket_mode_enabled: \(socketMode)",
            "  token_rotation_enabled: false",
        ]
        return lines.joined(separator: "\n") + "\n"
    }

    static func quote(_ text: String) -> String {
        "\"" + text.replacing("\\", with: "\\\\").replacing("\"", with: "\\\"") + "\""
    }
}

extension String {
    func trimmingSuffix(_ suffix: String) -> String {
        hasSuffix(suffix) ? String(dropLast(suffix.count)) : self
    }
}
