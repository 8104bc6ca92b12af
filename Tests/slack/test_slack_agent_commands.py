"""An agent-owned command through Slack: the box knows it only from the agent's catalog, shows
it in the menu and in `help`, walks the dialog, and the agent builds and runs it."""
import os
import tempfile
import time
import unittest

from harness import BIN, POLICY, Box, Fake, Spawned, blocks_of, check_blocks, click, config_dir, find_action, text_of

CHANNEL = "C0OWN"
AGENT_TOKEN = "own-agent-token"
# Defined only on the agent: the box has no commands.d entry for it.
GREET = """name: greet
summary: Greet someone from the agent
run: ["/bin/echo", "agent {{id}} greets {{who}}"]
args:
  - name: who
    prompt: Whom should the agent greet?
    choices: [world, Rick]
  - name: id
    prompt: Which id?
    type: int
    required: false
    default: "7"
confirm: "Greet {{who}} on {{targets}}?"
"""


class AgentOwnedCommandInSlack(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.fake = Fake()
        cls.config = config_dir({"policies.d/p.yaml": POLICY})
        cls.box = Box(cls.config, cls.fake, extra_env={"MEESEEKS_AGENT_TOKEN": AGENT_TOKEN}, extra_args=["--no-local-agent"])
        grpc = cls.box.spawned.wait_line("grpc listening on").split()[-1]
        cls.agent_config = config_dir({"commands.d/greet.yaml": GREET})
        cls.agent = Spawned([os.path.join(BIN, "mrmeeseeks"), "--box", grpc, "--id", "owner", "--labels", "team=owner",
                             "--config", cls.agent_config, "--state", tempfile.mkdtemp(prefix="meeseeks-agent-")],
                            env=dict(os.environ, MEESEEKS_AGENT_TOKEN=AGENT_TOKEN))
        cls.agent.wait_line("connected to the box", stream="err")

    @classmethod
    def tearDownClass(cls):
        cls.agent.stop()
        cls.box.stop()
        cls.fake.stop()

    def setUp(self):
        self.fake.control("reset")

    def mention(self, text):
        event = {"type": "app_mention", "user": "U_SRE", "text": "<@UBOT> " + text, "ts": "%f" % time.time(),
                 "channel": CHANNEL, "event_ts": "%f" % time.time()}
        status, _, _ = self.box.event(event)
        self.assertEqual(status, 200)

    def wait_message(self, needle):
        def seen(calls):
            return any(needle in text_of(c) for c in calls if c["method"] in ("chat.postMessage", "chat.update") and c.get("ok"))
        calls = self.fake.wait_calls(seen, what=needle)
        return [c for c in calls if c["method"] in ("chat.postMessage", "chat.update") and c.get("ok") and needle in text_of(c)][-1]

    def test_the_agents_command_is_in_the_menu_and_runs_through_the_dialog(self):
        self.mention("")
        menu = self.wait_message("Look at me!")
        find_action(blocks_of(menu), "pick", value="greet")  # offered, though the box does not define it
        click(self.box, self.fake, "U_SRE", CHANNEL, blocks_of(menu), "pick", value="greet")
        prompt = self.wait_message("Whom should the agent greet?")
        click(self.box, self.fake, "U_SRE", CHANNEL, blocks_of(prompt), "answer", value="Rick")
        # The optional int prompt: take the agent's default.
        optional = self.wait_message("Which id?")
        click(self.box, self.fake, "U_SRE", CHANNEL, blocks_of(optional), "skip")
        confirm = self.wait_message("Greet Rick on owner?")
        click(self.box, self.fake, "U_SRE", CHANNEL, blocks_of(confirm), "confirm_yes")
        done = self.wait_message("All done!")
        self.assertIn("agent 7 greets Rick", text_of(done))
        for call in self.fake.calls():
            if call["method"] in ("chat.postMessage", "chat.update"):
                check_blocks(blocks_of(call))

    def test_help_lists_it_and_a_typed_value_the_agents_definition_refuses_is_refused(self):
        self.mention("help")
        self.assertIn("greet", text_of(self.wait_message("Greet someone from the agent")))
        self.mention("greet who=Morty")
        refused = self.wait_message("Morty")
        self.assertNotIn("All done", text_of(refused))
        self.assertFalse(any("greets Morty" in text_of(c) for c in self.fake.calls()))


if __name__ == "__main__":
    unittest.main()
