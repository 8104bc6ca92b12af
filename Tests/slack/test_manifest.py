"""`meeseeks slack manifest` passes Slack's official manifest JSON Schema, in both modes."""
import json
import os
import subprocess
import unittest

import jsonschema
import yaml

from harness import BIN

LOCAL_SCHEMA = os.path.join(os.path.dirname(os.path.abspath(__file__)), "manifest.schema.1.0.0.json")


def manifest(*args):
    out = subprocess.run([os.path.join(BIN, "meeseeks"), "slack", "manifest", *args], capture_output=True, text=True, check=True)
    return yaml.safe_load(out.stdout)


class Manifest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        with open(LOCAL_SCHEMA) as f:
            cls.validator = jsonschema.Draft7Validator(json.load(f))

    def check(self, document):
        errors = sorted(self.validator.iter_errors(document), key=lambda e: list(e.path))
        self.assertEqual([e.message for e in errors], [])

    def test_http_mode(self):
        document = manifest("--url", "https://meeseeks.example.com")
        self.check(document)
        self.assertEqual(document["settings"]["event_subscriptions"]["request_url"], "https://meeseeks.example.com/slack/events")
        self.assertEqual(document["settings"]["interactivity"]["request_url"], "https://meeseeks.example.com/slack/interactivity")
        self.assertEqual(document["features"]["slash_commands"][0]["url"], "https://meeseeks.example.com/slack/commands")
        self.assertFalse(document["settings"]["socket_mode_enabled"])
        self.assertEqual(document["settings"]["event_subscriptions"]["bot_events"], ["app_mention", "message.im"])
        for scope in ["app_mentions:read", "chat:write", "commands", "im:history", "users:read"]:
            self.assertIn(scope, document["oauth_config"]["scopes"]["bot"])

    def test_socket_mode(self):
        document = manifest("--socket-mode")
        self.check(document)
        self.assertTrue(document["settings"]["socket_mode_enabled"])
        self.assertNotIn("request_url", document["settings"]["event_subscriptions"])
        self.assertNotIn("url", document["features"]["slash_commands"][0])

    def test_usage_errors(self):
        result = subprocess.run([os.path.join(BIN, "meeseeks"), "slack", "manifest", "--socket-mode", "--url", "https://x"],
                                capture_output=True, text=True)
        self.assertEqual(result.returncode, 2)
        self.assertIn("--url is for HTTP mode", result.stderr)


if __name__ == "__main__":
    unittest.main()
