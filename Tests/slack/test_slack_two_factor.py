"""2FA through Slack: the code goes in a modal, never the channel; a wrong code asks again; the
right one runs the job; the code appears nowhere (Slack payloads, logs, the database)."""
import json
import os
import tempfile
import time
import unittest


from harness import BIN, POLICY, Box, Fake, blocks_of, check_blocks, check_view, click, config_dir, enroll, text_of

CHANNEL = "C0SEC"
RESTART = """name: restart
summary: Restart a service
run: ["/bin/echo", "restarted {{service}}"]
args:
  - {name: service, choices: [nginx, redis]}
confirm: "Restart {{service}} on {{targets}}?"
two_factor: true
"""


class SlackTwoFactor(unittest.TestCase):
    def setUp(self):
        self.secrets = os.path.join(tempfile.mkdtemp(prefix="meeseeks-2fa-"), "secrets")
        self.totp = enroll("U_SRE", self.secrets)
        self.fake = Fake()
        self.config = config_dir({"commands.d/restart.yaml": RESTART, "policies.d/p.yaml": POLICY})
        self.db = os.path.join(self.config, "state.db")
        self.box = self.start_box()

    def start_box(self):
        from harness import Spawned, SECRET, API_TOKEN
        box = Box.__new__(Box)
        env = dict(os.environ, SLACK_API_URL=self.fake.url + "/api/", SLACK_BOT_TOKEN="xoxb-test", SLACK_SIGNING_SECRET=SECRET,
                   MEESEEKS_API_TOKEN=API_TOKEN)
        box.spawned = Spawned([os.path.join(BIN, "meeseeks"), "serve", "--config", self.config, "--http", "127.0.0.1:0",
                               "--grpc", "127.0.0.1:0", "--db", self.db, "--two-factor-secrets", self.secrets], env=env)
        box.url = "http://" + box.spawned.wait_line("http listening on").split()[-1]
        return box

    def tearDown(self):
        self.box.stop()
        self.fake.stop()

    def wait_message(self, needle, after=0):
        def seen(calls):
            return any(needle in text_of(c) for c in calls[after:] if c["method"] in ("chat.postMessage", "chat.update") and c.get("ok"))
        calls = self.fake.wait_calls(seen, what=needle)
        return [c for c in calls[after:] if needle in text_of(c) and c.get("ok")][-1], len(calls)

    def wait_modal(self, after):
        calls = self.fake.wait_calls(lambda calls: any(c["method"] == "views.open" and c.get("ok") for c in calls[after:]), what="the modal")
        call = [c for c in calls[after:] if c["method"] == "views.open" and c.get("ok")][-1]
        view = call["args"]["view"]
        view = json.loads(view) if isinstance(view, str) else view
        check_view(view)
        return view, len(calls)

    def submit(self, view, code):
        payload = {"type": "view_submission", "user": {"id": "U_SRE"}, "trigger_id": self.fake.control("trigger")["trigger_id"],
                   "team": {"id": "T0FAKE"},
                   "view": {"id": "V1", "type": "modal", "callback_id": view["callback_id"], "private_metadata": view["private_metadata"],
                            "state": {"values": {"code": {"code": {"type": "plain_text_input", "value": code}}}}}}
        return self.box.interact(payload)

    def test_modal_wrong_code_then_right_code(self):
        event = {"type": "app_mention", "user": "U_SRE", "text": "<@UBOT> restart nginx", "ts": "%f" % time.time(), "channel": CHANNEL}
        self.assertEqual(self.box.event(event)[0], 200)
        confirm, n = self.wait_message("Restart nginx on local?")
        click(self.box, self.fake, "U_SRE", CHANNEL, blocks_of(confirm), "confirm_yes")
        challenge, n = self.wait_message("needs a second factor", after=n)
        view, n = self.wait_modal(0)

        # A code of the wrong shape is refused by the modal itself, at once.
        status, body, _ = self.submit(view, "12ab")
        self.assertEqual(status, 200)
        self.assertEqual(json.loads(body)["response_action"], "errors")

        status, _, _ = self.submit(view, "000000")
        self.assertEqual(status, 200)
        retry, n = self.wait_message("wrong code, try again", after=n)
        check_blocks(blocks_of(retry))
        calls_before = len(self.fake.control("calls"))
        click(self.box, self.fake, "U_SRE", CHANNEL, blocks_of(retry), "code_open")
        view, _ = self.wait_modal(calls_before)

        code = self.totp.now()
        status, _, _ = self.submit(view, code)
        self.assertEqual(status, 200)
        self.wait_message("Can do!", after=n)
        done, _ = self.wait_message("All done!", after=n)
        self.assertIn("restarted nginx", text_of(done))

        # The code is nowhere: not in what Slack received, not in the logs, not in the database.
        time.sleep(0.5)
        sent = json.dumps([c for c in self.fake.control("calls")])
        self.assertNotIn(code, sent)
        self.assertNotIn(code, "".join(self.box.spawned.err) + "".join(self.box.spawned.out))
        for name in os.listdir(self.config):
            if name.startswith("state.db"):
                with open(os.path.join(self.config, name), "rb") as f:
                    self.assertNotIn(code.encode(), f.read(), name)

        # The audit built-in shows each step to an admin.
        self.assertEqual(self.box.event({"type": "app_mention", "user": "U_ADMIN", "text": "<@UBOT> audit user=U_SRE",
                                         "ts": "%f" % time.time(), "channel": CHANNEL})[0], 200)
        audit, _ = self.wait_message("2fa.passed")
        for action in ["dialog.opened", "command.picked", "policy.allowed", "dialog.confirmed", "2fa.failed", "2fa.passed",
                       "job.queued", "job.started", "job.finished"]:
            self.assertIn(action, text_of(audit))


if __name__ == "__main__":
    unittest.main()
