"""The fault matrix's Slack rounds (issue 13): Slack's Web API out of reach (connection refused),
then answering 429 with Retry-After. The box keeps serving meanwhile (jobs run, the API answers),
and once Slack is back every reply is delivered exactly once, in order in each channel."""
import json
import time
import unittest

from harness import API_TOKEN, ECHO, SRE_POLICY, Box, Fake, config_dir, http, text_of


class SlackOutOfReach(unittest.TestCase):
    def setUp(self):
        self.fake = Fake()
        self.port = self.fake.port
        self.box = Box(config_dir({"commands.d/echo.yaml": ECHO, "policies.d/p.yaml": SRE_POLICY}), self.fake)

    def tearDown(self):
        self.box.stop()
        self.fake.stop()

    def mention(self, channel, word, ts):
        event = {"type": "app_mention", "user": "U_SRE", "text": "<@UBOT> echo %s" % word, "ts": ts, "channel": channel}
        self.assertEqual(self.box.event(event)[0], 200)

    def api(self, path):
        status, text, _ = http("GET", self.box.url + path, None, {"Authorization": "Bearer " + API_TOKEN, "X-Meeseeks-As": "U_SRE"})
        return status, json.loads(text) if text else None

    def test_replies_wait_for_slack_then_arrive_once_and_in_order(self):
        self.fake.stop()  # connection refused from now on
        requests = [("C0ONE", "alpha", "1.1"), ("C0TWO", "bravo", "2.1"), ("C0ONE", "charlie", "1.2"), ("C0ONE", "delta", "1.3")]
        for channel, word, ts in requests:
            self.mention(channel, word, ts)
            time.sleep(0.3)
        # The box keeps working and answering while Slack is dark.
        deadline = time.time() + 30
        while time.time() < deadline:
            status, body = self.api("/api/v1/jobs?limit=10")
            self.assertEqual(status, 200)
            if len(body["jobs"]) == 4 and all(job["status"] == "succeeded" for job in body["jobs"]):
                break
            time.sleep(0.3)
        self.assertEqual(sorted(job["arguments"]["word"] for job in body["jobs"]), ["alpha", "bravo", "charlie", "delta"])
        self.assertEqual(http("GET", self.box.url + "/readyz")[0], 200)
        time.sleep(3)  # a few failed attempts and backoffs
        # Slack comes back on the same address, rate-limiting at first.
        self.fake = Fake(port=self.port)
        self.fake.control("faults", {"method": "*", "mode": "429", "count": 3, "retry_after": 2})

        def results(calls):
            return [c for c in calls if c["method"] == "chat.postMessage" and c.get("ok") and "said " in text_of(c)]

        calls = self.fake.wait_calls(lambda calls: len(results(calls)) >= 4, timeout=90, what="every result after the outage")
        time.sleep(2)  # anything sent twice would have arrived by now
        calls = self.fake.control("calls")
        self.assertGreaterEqual(len([c for c in calls if c["status"] == 429]), 3)
        delivered = [c for c in calls if c.get("ok") and c["method"] in ("chat.postMessage", "chat.update")]
        for _, word, ts in requests:
            mine = [c for c in delivered if c["args"].get("thread_ts") == ts or (c["method"] == "chat.update" and word in text_of(c))]
            said = [c for c in mine if c["method"] == "chat.postMessage" and "said %s" % word in text_of(c)]
            self.assertEqual(len(said), 1, "one result for %s: %s" % (word, [text_of(c)[:120] for c in mine]))
        # In each channel, replies go out in the order they were made: the requests' results in request order.
        for channel in ("C0ONE", "C0TWO"):
            words = [w for c, w, _ in requests if c == channel]
            order = [next(w for w in words if "said %s" % w in text_of(c)) for c in results(calls) if c["args"]["channel"] == channel]
            self.assertEqual(order, words, channel)


if __name__ == "__main__":
    unittest.main()
