"""Aliases and presets end to end: a command's alias and a preset with arguments fixed run from a
Slack mention and from `meeseeks run`, show in help, and go through the command's own policy."""
import json
import os
import subprocess
import time
import unittest

from harness import API_TOKEN, BIN, Box, Fake, blocks_of, config_dir, text_of

POLICY = """roles:
  sre: {members: [U_SRE]}
  dev: {members: [U_DEV]}
grants:
  - {roles: [sre], commands: ["*"]}
  - {roles: [dev], commands: [greet]}
"""

DEPLOY = """name: deploy
summary: Deploy an environment
run: ["/bin/echo", "deploying {{env}} at {{version}}"]
aliases: [dp]
args:
  - {name: env, choices: [stg, prd]}
  - {name: version, pattern: '^v[0-9]+$'}
"""

GREET = """name: greet
summary: Greet someone
run: ["/bin/echo", "hello {{who}}"]
aliases: [hi]
args:
  - {name: who, choices: [world, Rick]}
"""

SETTINGS = """aliases:
  deploy-prod: "deploy env=prd"
"""

CHANNEL = "C0ALIAS"


class Aliases(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.fake = Fake()
        cls.config = config_dir({"commands.d/deploy.yaml": DEPLOY, "commands.d/greet.yaml": GREET, "policies.d/p.yaml": POLICY,
                                 "meeseeks.yaml": SETTINGS})
        cls.box = Box(cls.config, cls.fake)

    @classmethod
    def tearDownClass(cls):
        cls.box.stop()
        cls.fake.stop()

    def mention(self, user, text):
        ts = "%f" % time.time()
        event = {"type": "app_mention", "user": user, "text": "<@UBOT> " + text, "ts": ts, "channel": CHANNEL}
        self.assertEqual(self.box.event(event)[0], 200)
        return ts

    def in_thread(self, ts, needle, what=None):
        calls = self.fake.wait_calls(lambda calls: any(c["args"].get("thread_ts") == ts and needle in text_of(c) for c in calls),
                                     timeout=30, what=what or needle)
        return [c for c in calls if c["args"].get("thread_ts") == ts and needle in text_of(c)][-1]

    def run_cli(self, *args, user="U_SRE"):
        env = dict(os.environ, MEESEEKS_API_TOKEN=API_TOKEN)
        return subprocess.run([os.path.join(BIN, "meeseeks"), "run", "--box", self.box.url, "--as", user, *args],
                              capture_output=True, text=True, timeout=60, env=env)

    def test_an_alias_from_slack_runs_its_command(self):
        ts = self.mention("U_SRE", "dp stg version=v7")
        self.in_thread(ts, "deploying stg at v7")

    def test_a_preset_fixes_its_arguments_and_asks_for_the_rest(self):
        ts = self.mention("U_SRE", "deploy-prod")
        prompt = self.in_thread(ts, "version", what="the prompt for the argument the preset leaves open")
        self.assertNotIn("env", json.dumps(blocks_of(prompt)).replace("deploy", ""))
        self.assertEqual(self.box.interact({
            "type": "block_actions", "user": {"id": "U_SRE"}, "trigger_id": self.fake.control("trigger")["trigger_id"],
            "channel": {"id": CHANNEL}, "container": {"type": "message", "channel_id": CHANNEL},
            "actions": [dict(action, value="v9") for action in [self.answer_action(prompt)]]})[0], 200)
        self.in_thread(ts, "deploying prd at v9")

    def answer_action(self, prompt):
        for block in blocks_of(prompt):
            element = block.get("element") or block.get("accessory")
            if element and element.get("action_id", "").startswith("answer"):
                return {"action_id": element["action_id"], "block_id": block["block_id"], "type": element["type"]}
        self.fail("no answer field in %s" % json.dumps(blocks_of(prompt)))

    def test_aliases_and_presets_show_in_help(self):
        ts = self.mention("U_SRE", "help")
        help_text = text_of(self.in_thread(ts, "deploy-prod", what="help"))
        self.assertIn("also: dp", help_text)
        self.assertIn("stands for: deploy env=prd", help_text)

    def test_an_alias_goes_through_the_commands_policy(self):
        ts = self.mention("U_DEV", "dp stg version=v1")
        self.in_thread(ts, "deploy", what="the refusal")
        time.sleep(1)
        self.assertFalse([c for c in self.fake.control("calls") if c["args"].get("thread_ts") == ts and "deploying" in text_of(c)])
        allowed = self.mention("U_DEV", "hi Rick")
        self.in_thread(allowed, "hello Rick")

    def test_aliases_and_presets_from_the_terminal(self):
        ran = self.run_cli("dp", "stg", "version=v3")
        self.assertEqual(ran.returncode, 0, ran.stderr)
        self.assertIn("deploying stg at v3", ran.stdout)
        preset = self.run_cli("deploy-prod", "version=v4")
        self.assertEqual(preset.returncode, 0, preset.stderr)
        self.assertIn("deploying prd at v4", preset.stdout)
        # A preset's fixed argument cannot be given again.
        twice = self.run_cli("deploy-prod", "env=stg", "version=v4")
        self.assertNotEqual(twice.returncode, 0)
        refused = self.run_cli("dp", "stg", "version=v5", user="U_DEV")
        self.assertNotEqual(refused.returncode, 0)
        self.assertNotIn("deploying", refused.stdout)


if __name__ == "__main__":
    unittest.main()
