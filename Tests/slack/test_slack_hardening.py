"""Slack input the box must not be fooled or starved by: replayed signed requests, one slow
Slack call, and @handles that match only an editable display name."""
import os
import time
import unittest
import urllib.parse

from harness import BIN, HELLO, Box, BoxWithFakeSlack, Fake, Spawned, config_dir


class ReplaysAndStarvation(BoxWithFakeSlack):
    def slash(self, user, text, channel="C_HARD"):
        return urllib.parse.urlencode({"command": "/meeseeks", "text": text, "user_id": user, "channel_id": channel,
                                       "trigger_id": "1.2.fake", "team_id": "T0FAKE"})

    def posts(self, channel):
        return [c for c in self.fake.calls("chat.postMessage") if c["args"].get("channel") == channel]

    def test_a_replayed_slash_command_is_acknowledged_and_ignored(self):
        body = self.slash("U_DEV", "hello", channel="C_REPLAY")
        ts = str(int(time.time()))
        status, _, _ = self.box.signed("/slack/commands", body, "application/x-www-form-urlencoded", timestamp=ts)
        self.assertEqual(status, 200)
        self.fake.wait_calls(lambda calls: len(self.posts("C_REPLAY")) == 1, what="the first dialog")
        # The very same bytes, timestamp and signature, within the five minutes they are valid.
        for _ in range(3):
            status, _, _ = self.box.signed("/slack/commands", body, "application/x-www-form-urlencoded", timestamp=ts)
            self.assertEqual(status, 200)
        time.sleep(1.0)
        self.assertEqual(len(self.posts("C_REPLAY")), 1, "a replay opened another dialog")
        # A new request (new timestamp, so a new signature) is of course served.
        status, _, _ = self.box.signed("/slack/commands", body, "application/x-www-form-urlencoded", timestamp=int(ts) + 1)
        self.fake.wait_calls(lambda calls: len(self.posts("C_REPLAY")) == 2, what="the second dialog")

    def test_one_slow_slack_call_does_not_stall_other_users(self):
        self.fake.control("faults", {"method": "views.open", "mode": "slow", "seconds": 6, "count": 1})
        trigger = self.fake.control("trigger")["trigger_id"]
        payload = {"type": "block_actions", "user": {"id": "U_SRE"}, "trigger_id": trigger, "team": {"id": "T0FAKE"},
                   "channel": {"id": "C_SLOW"}, "actions": [{"action_id": "code_open", "block_id": "mx:sdeadbeef:3:0",
                                                              "type": "button", "value": "x"}]}
        status, _, _ = self.box.interact(payload)
        self.assertEqual(status, 200)
        self.fake.wait_calls(lambda calls: any(c["method"] == "views.open" for c in calls) or True, what="views.open")
        started = time.time()
        self.box.signed("/slack/commands", self.slash("U_DEV", "", channel="C_FAST"), "application/x-www-form-urlencoded")
        self.fake.wait_calls(lambda calls: len(self.posts("C_FAST")) == 1, timeout=10, what="the other user's greeting")
        self.assertLess(time.time() - started, 3, "another user waited behind a slow views.open")
        self.fake.control("clear_faults")


class HandlesByNameOnly(unittest.TestCase):
    def test_a_display_name_is_not_a_handle(self):
        fake = Fake()
        try:
            # Anyone can set their display name to "boss"; only a user whose unique name is
            # "boss" may take a role as @boss.
            fake.control("add_user", {"id": "U_IMPOSTOR", "name": "impostor", "profile": {"display_name": "boss"}})
            policy = "roles:\n  admin: {members: ['@boss']}\ngrants:\n  - {roles: [admin], commands: ['*']}\n"
            config = config_dir({"commands.d/hello.yaml": HELLO, "policies.d/p.yaml": policy})
            env = dict(os.environ, SLACK_API_URL=fake.url + "/api/", SLACK_BOT_TOKEN="xoxb-test", SLACK_SIGNING_SECRET="s",
                       MEESEEKS_API_TOKEN="t")
            refused = Spawned([os.path.join(BIN, "meeseeks"), "serve", "--config", config, "--http", "127.0.0.1:0",
                               "--grpc", "127.0.0.1:0"], env=env)
            self.assertEqual(refused.proc.wait(timeout=30), 1)
            time.sleep(0.2)
            self.assertIn("no Slack user has the name @boss", "".join(refused.err))

            fake.control("add_user", {"id": "U_BOSS", "name": "boss", "profile": {"display_name": "The Boss"}})
            box = Box(config, fake)
            try:
                status, text, _ = box_api(box, "/api/v1/agents", "U_IMPOSTOR")
                self.assertEqual(status, 403, text)
                status, text, _ = box_api(box, "/api/v1/audit", "U_BOSS")
                self.assertEqual(status, 200, text)
            finally:
                box.stop()
        finally:
            fake.stop()


def box_api(box, path, user):
    from harness import API_TOKEN, http
    return http("GET", box.url + path, headers={"Authorization": "Bearer " + API_TOKEN, "X-Meeseeks-As": user})


if __name__ == "__main__":
    unittest.main()
