"""The real `meeseeks serve` against the fake Slack: the whole dialog of SPEC §5, as a user clicks."""
import json
import os
import re
import signal
import time
import unittest

from harness import (HELLO, POLICY, Box, BoxWithFakeSlack, Fake, blocks_of, check_blocks, click, config_dir, find_action, http,
                     text_of)

CHANNEL = "C0OPS"

RESTART = """name: restart
summary: Restart a service
run: ["/bin/echo", "restarting {{service}}"]
args:
  - name: service
    choices: [nginx, postgres]
confirm: true
destructive: true
"""


def dialog_messages(fake):
    """Successful chat.postMessage / chat.update calls, in order."""
    return [c for c in fake.control("calls") if c["method"] in ("chat.postMessage", "chat.update") and c.get("ok")]


class SlackDialog(unittest.TestCase):
    socket_mode = False

    @classmethod
    def setUpClass(cls):
        cls.fake = Fake()
        cls.config = config_dir({"commands.d/hello.yaml": HELLO, "commands.d/restart.yaml": RESTART, "policies.d/p.yaml": POLICY})
        cls.box = Box(cls.config, cls.fake, socket_mode=cls.socket_mode)
        if cls.socket_mode:
            deadline = time.time() + 20
            while cls.fake.control("state")["sockets"] < 1 and time.time() < deadline:
                time.sleep(0.05)

    @classmethod
    def tearDownClass(cls):
        cls.box.stop()
        cls.fake.stop()

    def setUp(self):
        self.fake.control("reset")
        self.fake.control("clear_faults")

    # The user's side -------------------------------------------------------------------------

    def mention(self, text, user="U_SRE", event_id=None):
        event = {"type": "app_mention", "user": user, "text": "<@UBOT> " + text, "ts": "%f" % time.time(),
                 "channel": CHANNEL, "event_ts": "%f" % time.time()}
        if self.socket_mode:
            self.fake.control("send", {"envelope_id": "e%f" % time.time(), "type": "events_api",
                                       "accepts_response_payload": False, "retry_attempt": 0,
                                       "payload": {"type": "event_callback", "event": event,
                                                   "event_id": event_id or "Ev%f" % time.time()}})
        else:
            status, _, _ = self.box.event(event, event_id=event_id)
            self.assertEqual(status, 200)

    def click(self, blocks, prefix, value=None, selected=None, typed=None, user="U_SRE"):
        if not self.socket_mode:
            return click(self.box, self.fake, user, CHANNEL, blocks, prefix, value, selected, typed)
        block_id, element = find_action(blocks, prefix, value)
        action = {"action_id": element["action_id"], "block_id": block_id, "type": element["type"],
                  "value": element.get("value", "")}
        trigger = self.fake.control("trigger")["trigger_id"]
        self.fake.control("send", {"envelope_id": "e%f" % time.time(), "type": "interactive", "accepts_response_payload": False,
                                   "payload": {"type": "block_actions", "user": {"id": user}, "trigger_id": trigger,
                                               "channel": {"id": CHANNEL}, "actions": [action]}})
        return trigger

    def wait_message(self, needle, count=None):
        def seen(calls):
            msgs = [c for c in calls if c["method"] in ("chat.postMessage", "chat.update") and c.get("ok")]
            return any(needle in text_of(c) for c in msgs)
        self.fake.wait_calls(seen, what=needle)
        msgs = dialog_messages(self.fake)
        return [c for c in msgs if needle in text_of(c)][-1]

    # The tests --------------------------------------------------------------------------------

    def test_whole_dialog(self):
        self.mention("")
        menu = self.wait_message("Look at me!")
        self.assertEqual(menu["method"], "chat.postMessage")
        self.click(blocks_of(menu), "pick", value="hello")
        prompt = self.wait_message("Who?")
        self.assertEqual(prompt["method"], "chat.update")
        self.assertEqual(prompt["args"]["ts"], menu["response"]["ts"])  # updated in place
        self.click(blocks_of(prompt), "answer", value="Rick")
        confirm = self.wait_message("Greet Rick on local?")
        self.click(blocks_of(confirm), "confirm_yes")
        accepted = self.wait_message("Can do!")
        done = self.wait_message("All done!")
        self.assertEqual(done["method"], "chat.postMessage")
        self.assertIn("<@U_SRE>", text_of(done))
        self.assertIn("Hello, Rick!", text_of(done))
        job = re.search(r"#(\d+)", text_of(accepted)).group(1)
        self.assertIn("#%s" % job, text_of(done))
        # Every payload the box sent passes Slack's own block models.
        for call in dialog_messages(self.fake):
            check_blocks(blocks_of(call))

    def test_typed_request_skips_prompts_but_not_confirmation(self):
        self.mention("restart service=nginx")
        confirm = self.wait_message("restart")
        blocks = blocks_of(confirm)
        _, yes = find_action(blocks, "confirm_yes")
        self.assertEqual(yes["style"], "danger")
        self.assertIn("confirm", yes)
        self.click(blocks, "confirm_yes")
        self.wait_message("restarting nginx")

    def test_someone_elses_dialog_is_refused(self):
        self.mention("", user="U_SRE")
        menu = self.wait_message("Look at me!")
        self.click(blocks_of(menu), "pick", value="hello", user="U_DEV")
        time.sleep(0.5)
        self.assertFalse(any("Who?" in text_of(c) for c in dialog_messages(self.fake)))

    def test_second_click_on_a_used_button(self):
        self.mention("hello")
        prompt = self.wait_message("Who?")
        self.click(blocks_of(prompt), "answer", value="Rick")
        self.wait_message("Greet Rick")
        self.click(blocks_of(prompt), "answer", value="world")
        self.wait_message("earlier step")
        self.assertFalse(any("Greet world" in text_of(c) for c in dialog_messages(self.fake)))


class SlackDialogOverSocketMode(SlackDialog):
    socket_mode = True

    def test_envelopes_are_acknowledged(self):
        self.mention("help")
        self.wait_message("Built-ins")
        acks = self.fake.control("state")["acks"]
        self.assertTrue(acks and all("envelope_id" in a for a in acks))

    def test_reconnects_after_refresh_and_drop(self):
        self.fake.control("disconnect", {"reason": "refresh_requested"})
        time.sleep(0.3)
        deadline = time.time() + 20
        while self.fake.control("state")["sockets"] < 1 and time.time() < deadline:
            time.sleep(0.05)
        self.fake.control("drop")
        time.sleep(0.3)
        while self.fake.control("state")["sockets"] < 1 and time.time() < deadline:
            time.sleep(0.05)
        self.mention("help")
        self.wait_message("Built-ins")
        status, body, _ = http("GET", self.box.url + "/readyz")
        self.assertEqual(status, 200, body)


class SlackOutboxNeverLosesAReply(unittest.TestCase):
    """429 and 5xx storms, and a restart with replies still queued: each reply arrives once, in order."""

    def setUp(self):
        self.fake = Fake()
        self.config = config_dir({"commands.d/hello.yaml": HELLO, "policies.d/p.yaml": POLICY})
        self.db = os.path.join(self.config, "state.db")
        self.box = Box(self.config, self.fake, db=self.db)

    def tearDown(self):
        self.box.stop()
        self.fake.stop()

    def run_dialog(self, box):
        event = {"type": "app_mention", "user": "U_SRE", "text": "<@UBOT> hello who=world", "ts": "%f" % time.time(),
                 "channel": CHANNEL}
        self.assertEqual(box.event(event)[0], 200)

    def delivered_in_order(self):
        texts = [text_of(c) for c in dialog_messages(self.fake)]
        return texts

    def finish_dialog(self, box):
        confirm = self.fake.wait_calls(
            lambda calls: any("Greet world" in text_of(c) for c in calls if c.get("ok")), timeout=60, what="the confirmation")
        confirm = [c for c in confirm if c.get("ok") and "Greet world" in text_of(c)][-1]
        click(box, self.fake, "U_SRE", CHANNEL, blocks_of(confirm), "confirm_yes")
        self.fake.wait_calls(lambda calls: any("All done" in text_of(c) for c in calls if c.get("ok")), timeout=60, what="All done")

    def check_once_in_order(self):
        texts = self.delivered_in_order()
        order = ["Greet world", "Can do!", "All done"]
        positions = [next(i for i, t in enumerate(texts) if needle in t) for needle in order]
        self.assertEqual(positions, sorted(positions))
        for needle in order:
            self.assertEqual(len([t for t in texts if needle in t]), 1, needle)

    def test_rate_limit_storm(self):
        self.fake.control("faults", {"method": "*", "mode": "429", "count": 6, "retry_after": 1})
        self.run_dialog(self.box)
        self.finish_dialog(self.box)
        self.check_once_in_order()
        self.assertGreaterEqual(len([c for c in self.fake.control("calls") if c["status"] == 429]), 6)

    def test_server_error_storm(self):
        self.fake.control("faults", {"method": "*", "mode": "500", "count": 5})
        self.run_dialog(self.box)
        self.finish_dialog(self.box)
        self.check_once_in_order()

    def test_restart_delivers_queued_replies(self):
        self.fake.control("faults", {"method": "*", "mode": "500", "count": 100000})
        self.run_dialog(self.box)
        self.fake.wait_calls(lambda calls: len([c for c in calls if c["status"] == 500]) >= 2, what="failed deliveries")
        self.box.stop(signal.SIGKILL)
        self.fake.control("clear_faults")
        self.box = Box(self.config, self.fake, db=self.db)
        self.finish_dialog(self.box)
        self.check_once_in_order()


class SlackHTTPInbound(BoxWithFakeSlack):
    def test_url_verification(self):
        body = json.dumps({"token": "x", "challenge": "abc123", "type": "url_verification"})
        status, text, _ = self.box.signed("/slack/events", body, "application/json")
        self.assertEqual((status, text), (200, "abc123"))

    def test_bad_signatures_get_401_and_change_nothing(self):
        self.fake.control("reset")
        body = json.dumps({"type": "event_callback", "event_id": "EvBad", "event": {"type": "app_mention", "user": "U_SRE",
                           "text": "<@UBOT> hello", "channel": CHANNEL, "ts": "1.1"}})
        cases = [
            dict(secret="wrong-secret"),
            dict(timestamp=int(time.time()) - 330),
            dict(timestamp=int(time.time()) + 330),
        ]
        for case in cases:
            status, _, _ = self.box.signed("/slack/events", body, "application/json", **case)
            self.assertEqual(status, 401, case)
        status, _, _ = http("POST", self.box.url + "/slack/events", body.encode(), {"Content-Type": "application/json"})
        self.assertEqual(status, 401)
        time.sleep(0.5)
        self.assertEqual(self.fake.calls("chat.postMessage"), [])

    def test_oversized_and_malformed_bodies(self):
        status, _, _ = self.box.signed("/slack/events", "x" * (300 * 1024), "application/json")
        self.assertEqual(status, 413)
        status, _, _ = self.box.signed("/slack/events", "{not json", "application/json")
        self.assertEqual(status, 400)
        status, _, _ = self.box.signed("/slack/interactivity", "payload=%7Bbroken", "application/x-www-form-urlencoded")
        self.assertEqual(status, 400)
        status, _, _ = self.box.signed("/slack/events", json.dumps({"type": "something_else"}), "application/json")
        self.assertEqual(status, 200)

    def test_retried_events_run_once(self):
        self.fake.control("reset")
        event = {"type": "app_mention", "user": "U_SRE", "text": "<@UBOT> hello who=world", "channel": CHANNEL, "ts": "2.2"}
        for attempt in range(3):
            headers = {"X-Slack-Retry-Num": str(attempt), "X-Slack-Retry-Reason": "http_timeout"} if attempt else None
            status, _, _ = self.box.event(event, event_id="EvSame", headers=headers)
            self.assertEqual(status, 200)
        self.fake.wait_calls(lambda calls: any("Greet world" in text_of(c) for c in calls if c["method"] == "chat.postMessage"))
        time.sleep(0.5)
        self.assertEqual(len([c for c in self.fake.calls("chat.postMessage") if "Greet world" in text_of(c)]), 1)

    def test_a_retry_after_a_restart_still_runs_once(self):
        self.fake.control("reset")
        event = {"type": "app_mention", "user": "U_SRE", "text": "<@UBOT> hello who=Rick", "channel": CHANNEL, "ts": "3.3"}
        greeted = lambda: [c for c in self.fake.calls("chat.postMessage") if "Greet Rick" in text_of(c)]  # noqa: E731
        self.assertEqual(self.box.event(event, event_id="EvAcrossRestart")[0], 200)
        self.fake.wait_calls(lambda calls: greeted())
        self.box.stop()
        type(self).box = Box(self.config, self.fake)
        retry = {"X-Slack-Retry-Num": "1", "X-Slack-Retry-Reason": "http_timeout"}
        self.assertEqual(self.box.event(event, event_id="EvAcrossRestart", headers=retry)[0], 200)
        time.sleep(1)
        self.assertEqual(len(greeted()), 1)

    def test_slash_command_answers_fast(self):
        body = "command=%2Fmeeseeks&text=help&user_id=U_DEV&channel_id=C0OPS&response_url=http%3A%2F%2Fx&trigger_id=1.2"
        started = time.time()
        status, _, _ = self.box.signed("/slack/commands", body, "application/x-www-form-urlencoded")
        self.assertEqual(status, 200)
        self.assertLess(time.time() - started, 3)
        self.fake.wait_calls(lambda calls: any("Built-ins" in text_of(c) for c in calls if c["method"] == "chat.postMessage"))


if __name__ == "__main__":
    unittest.main()


class HandleMembers(unittest.TestCase):
    """`@handle` members are resolved through users.list at load, and again at each reload."""

    def test_handles_resolve_and_re_resolve(self):
        fake = Fake()
        policy = "roles:\n  ops: {members: [\"@morty\"]}\ngrants:\n  - {roles: [ops], commands: [hello]}\n"
        config = config_dir({"commands.d/hello.yaml": HELLO, "policies.d/p.yaml": policy})
        box = Box(config, fake)
        try:
            def ask(user, ts):
                event = {"type": "app_mention", "user": user, "text": "<@UBOT> hello who=world", "ts": ts, "channel": CHANNEL}
                self.assertEqual(box.event(event)[0], 200)

            ask("U_DEV", "1.1")
            fake.wait_calls(lambda calls: any("Greet world" in text_of(c) for c in calls if c.get("ok")), what="U_DEV allowed")
            ask("U_SRE", "1.2")
            fake.wait_calls(lambda calls: any("no role" in text_of(c) for c in calls if c.get("ok")), what="U_SRE refused")
            with open(os.path.join(config, "policies.d", "p.yaml"), "w") as f:
                f.write(policy.replace("@morty", "@rick"))
            fake.control("reset")
            box.spawned.proc.send_signal(signal.SIGHUP)
            box.spawned.wait_line("configuration reloaded", stream="err")
            ask("U_SRE", "1.3")
            fake.wait_calls(lambda calls: any("Greet world" in text_of(c) for c in calls if c.get("ok")), what="U_SRE allowed")
        finally:
            box.stop()
            fake.stop()


class SlackNames(BoxWithFakeSlack):
    """User IDs in built-ins' answers carry display names: from users.list when the box starts,
    from users.info (once) for users who joined since, none for IDs Slack does not know."""

    def mention(self, user, text, ts):
        event = {"type": "app_mention", "user": user, "text": "<@UBOT> " + text, "channel": CHANNEL, "ts": ts}
        self.assertEqual(self.box.event(event)[0], 200)

    def audit_text(self, ts):
        self.fake.control("reset")
        self.mention("U_ADMIN", "audit", ts)
        self.fake.wait_calls(lambda calls: any("policy" in text_of(c) for c in calls if c.get("ok")), what="the audit answer")
        return "\n".join(text_of(c) for c in self.fake.control("calls") if c.get("ok"))

    def test_user_ids_in_builtins_carry_names(self):
        self.fake.control("add_user", {"id": "U_NEW", "name": "summer", "real_name": "Summer Smith",
                                       "profile": {"display_name": "summer"}})
        self.mention("U_SRE", "hello who=world", "6.1")
        self.mention("U_NEW", "hello who=world", "6.2")  # no role: refused, and audited
        time.sleep(1)
        first = self.audit_text("6.3")
        self.assertIn("U_SRE (rick)", first)
        time.sleep(1)
        second = self.audit_text("6.4")
        self.assertIn("U_SRE (rick)", second)
        self.assertIn("U_NEW (summer)", second)
        self.assertIn("U_ADMIN", second)
        self.assertNotIn("U_ADMIN (", second)
        asked = [c["args"].get("user") for c in self.fake.control("calls") if c["method"] == "users.info"]
        self.assertNotIn("U_SRE", asked)


class SlackIdleDialogs(BoxWithFakeSlack):
    files = {"commands.d/hello.yaml": HELLO, "policies.d/p.yaml": POLICY, "meeseeks.yaml": "dialogs: {idle_timeout: 1s}\n"}

    def test_an_idle_dialog_is_ended_in_place_without_a_click(self):
        self.fake.control("reset")
        event = {"type": "app_mention", "user": "U_SRE", "text": "<@UBOT> hello", "channel": CHANNEL, "ts": "7.1"}
        self.assertEqual(self.box.event(event)[0], 200)
        self.fake.wait_calls(lambda calls: any("Who?" in text_of(c) for c in calls if c.get("ok")), what="the prompt")
        # Nobody answers: the box ends the dialog itself, editing the prompt it posted.
        self.fake.wait_calls(lambda calls: any("expired" in text_of(c) for c in calls if c["method"] == "chat.update" and c.get("ok")),
                             what="the prompt replaced by an expiry notice")
