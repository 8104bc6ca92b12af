import ArgumentParser
import MeeseeksSlack

extension Meeseeks {
    struct Slack: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Slack app helpers.", subcommands: [Manifest.self])
    }
}

extension Meeseeks.Slack {
    struct Manifest: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print a Slack app manifest (YAML) for this box.",
            discussion: "Paste it at api.slack.com/apps → Create New App → From a manifest.")

        @Flag(name: .customLong("socket-mode"), help: "Use Socket Mode (no public URL needed; set SLACK_APP_TOKEN).")
        var socketMode = false

        @Option(name: .long, help: "The box's public base URL, for HTTP mode (e.g. https://meeseeks.example.com).")
        var url: String?

        @Option(name: .long, help: "The app's display name (at most 35 characters).")
        var name: String = "Mr Meeseeks"

        func validate() throws {
            if socketMode, url != nil { throw ValidationError("--url is for HTTP mode; Socket Mode needs no URL") }
            if let url, !(url.hasPrefix("https://") || url.hasPrefix("http://")) {
                throw ValidationError("--url must start with https:// (Slack requires HTTPS for request URLs)")
            }
            if name.isEmpty || name.count > 35 { throw ValidationError("--name must be 1 to 35 characters") }
        }

        func run() {
            print(SlackManifest.yaml(name: name, socketMode: socketMode, baseURL: url), terminator: "")
        }
    }
}
