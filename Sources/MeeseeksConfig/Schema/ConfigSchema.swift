/// JSON Schemas (draft-07) for the configuration files, printed by `meeseeks schema` so editors
/// with a YAML language server complete and check them.
///
/// The key lists are the decoders' own (`CommandDecoder.keys`, …); a test keeps them in step.
public enum ConfigSchema {
    public enum Kind: String, CaseIterable, Sendable {
        case command, policy, settings
    }

    public static func json(for kind: Kind) -> String {
        switch kind {
        case .command: command
        case .policy: policy
        case .settings: settings
        }
    }

    static let duration =
        #"{"type": ["string", "integer"], "pattern": "^([0-9]+(ms|s|m|h|d|w))+$", "description": "A duration such as 30s, 2m, 1h or 1h30m"}"#
    static let selector =
        #"{"type": "string", "description": "A Kubernetes label selector: k=v, k!=v, k in (a,b), k notin (a,b), k, !k; comma means AND"}"#

    static let command = #"""
        {
          "$schema": "http://json-schema.org/draft-07/schema#",
          "$id": "https://meeseeks-box.dev/schema/command.json",
          "title": "Meeseeks Box command (commands.d/*.yaml)",
          "type": "object",
          "additionalProperties": false,
          "required": ["name", "summary"],
          "oneOf": [{"required": ["run"]}, {"required": ["script"]}],
          "properties": {
            "name": {"type": "string", "pattern": "^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$", "description": "The word users type; unique across files"},
            "summary": {"type": "string", "maxLength": 75, "description": "One line, shown in menus"},
            "description": {"type": "string", "maxLength": 3000},
            "run": {"type": "array", "minItems": 1, "items": {"type": "string"}, "description": "argv; each {{arg}} becomes part of one argument, never split by a shell"},
            "script": {"type": "string", "pattern": "^#!", "description": "An inline script with a shebang, run directly"},
            "args": {"type": "array", "items": {"$ref": "#/definitions/argument"}},
            "confirm": {"type": ["boolean", "string"], "description": "true, false, or a message template with {{arg}}, {{targets}}, {{user}}"},
            "two_factor": {"type": "boolean", "description": "Require a TOTP code, verified by the agent that runs the job"},
            "timeout": \#(duration),
            "target": {
              "type": "object",
              "additionalProperties": false,
              "properties": {
                "selector": \#(selector),
                "mode": {"enum": ["one", "all"], "description": "one: a single matching agent (round robin); all: every matching agent"}
              }
            },
            "concurrency": {"type": "integer", "minimum": 1, "description": "Jobs of this command at once across the fleet"},
            "channels": {"type": "array", "items": {"type": "string"}, "description": "Channel IDs where the command may be requested"},
            "destructive": {"type": "boolean", "description": "Show the confirmation in Slack's danger style"},
            "aliases": {"type": ["array", "string"], "items": {"type": "string"}, "description": "Other words that request this command, such as rs for restart"},
            "approval": {
              "type": "object",
              "additionalProperties": false,
              "required": ["roles"],
              "description": "Four-eyes approval: the job waits until people of these roles (never its requester) approve it",
              "properties": {
                "roles": {"type": ["array", "string"], "items": {"type": "string"}, "description": "Roles whose members may approve"},
                "count": {"type": "integer", "minimum": 1, "maximum": 10, "description": "Different approvers needed (default 1)"},
                "timeout": {"type": ["string", "integer"], "description": "How long the job waits for approval, such as 30m (default; at most 7d)"},
                "channel": {"type": "string", "description": "Channel ID where approval requests are posted; without it each approver gets a direct message"}
              }
            }
          },
          "definitions": {
            "argument": {
              "type": "object",
              "additionalProperties": false,
              "required": ["name"],
              "properties": {
                "name": {"type": "string", "pattern": "^[A-Za-z_][A-Za-z0-9_]{0,63}$"},
                "prompt": {"type": "string", "maxLength": 3000},
                "type": {"enum": ["text", "choice", "int", "bool"]},
                "choices": {"type": "array", "maxItems": 100, "items": {"type": ["string", "number", "boolean"], "maxLength": 75}},
                "pattern": {"type": "string", "description": "A regular expression the whole value must match"},
                "min": {"type": "integer"},
                "max": {"type": "integer"},
                "required": {"type": "boolean"},
                "default": {"type": ["string", "number", "boolean"]},
                "secret": {"type": "boolean", "description": "Masked in messages, logs and the database"}
              }
            }
          }
        }
        """#

    static let policy = #"""
        {
          "$schema": "http://json-schema.org/draft-07/schema#",
          "$id": "https://meeseeks-box.dev/schema/policy.json",
          "title": "Meeseeks Box policy (policies.d/*.yaml)",
          "type": "object",
          "additionalProperties": false,
          "properties": {
            "roles": {
              "type": "object",
              "additionalProperties": {
                "type": "object",
                "additionalProperties": false,
                "required": ["members"],
                "properties": {
                  "members": {"type": "array", "items": {"type": "string"}, "description": "Slack user IDs (U…, W…); @handles are accepted with a warning"},
                  "description": {"type": "string"}
                }
              }
            },
            "grants": {
              "type": "array",
              "items": {
                "type": "object",
                "additionalProperties": false,
                "required": ["roles", "commands"],
                "properties": {
                  "roles": {"type": ["array", "string"], "items": {"type": "string"}},
                  "commands": {"type": ["array", "string"], "items": {"type": "string"}, "description": "Command names or globs such as deploy-*"},
                  "on": \#(selector),
                  "description": {"type": "string"}
                }
              }
            }
          }
        }
        """#

    static let settings = #"""
        {
          "$schema": "http://json-schema.org/draft-07/schema#",
          "$id": "https://meeseeks-box.dev/schema/settings.json",
          "title": "Meeseeks Box settings (meeseeks.yaml)",
          "type": ["object", "null"],
          "additionalProperties": false,
          "properties": {
            "persona": {
              "type": "object",
              "additionalProperties": false,
              "properties": {
                "name": {"type": "string"},
                "greeting": {"$ref": "#/definitions/phrases"},
                "accepted": {"$ref": "#/definitions/phrases"},
                "done": {"$ref": "#/definitions/phrases"},
                "failed": {"$ref": "#/definitions/phrases"},
                "refused": {"$ref": "#/definitions/phrases"},
                "cancelled": {"$ref": "#/definitions/phrases"},
                "confirm": {"$ref": "#/definitions/phrases"}
              }
            },
            "history": {"type": "object", "additionalProperties": false, "properties": {"retention": \#(duration)}},
            "dialogs": {"type": "object", "additionalProperties": false, "properties": {"idle_timeout": \#(duration)}},
            "agents": {"type": "object", "additionalProperties": false, "properties": {"lost_after": \#(duration)}},
            "jobs": {"type": "object", "additionalProperties": false, "properties": {"output_limit": {"type": "integer", "minimum": 1024}}},
            "aliases": {"type": "object", "additionalProperties": {"type": "string"}, "description": "Presets: a name standing for a typed request with some arguments fixed, such as deploy-prod: \"deploy env=prd\""},
            "paths": {
              "type": "object",
              "additionalProperties": false,
              "properties": {
                "commands": {"type": "string"},
                "policies": {"type": "string"},
                "database": {"type": "string"},
                "two_factor_secrets": {"type": "string"}
              }
            }
          },
          "definitions": {
            "phrases": {"type": ["string", "array"], "items": {"type": "string"}}
          }
        }
        """#
}
