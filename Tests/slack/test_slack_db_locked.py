"""The fault matrix's database round (issue 13): another process holds the box's SQLite database
locked for a while. Requests get a clear error instead of hanging (Slack's are not acknowledged,
so Slack sends them again), nothing is half-written, and the box recovers by itself once the
lock is released."""
import json
import os
import sqlite3
import time
import unittest

from harness import API_TOKEN, ECHO, SRE_POLICY, Box, Fake, config_dir, http, text_of


class DatabaseLocked(unittest.TestCase):
    def setUp(self):
        self.fake = Fake()
        self.config = config_dir({"commands.d/echo.yaml": ECHO, "policies.d/p.yaml": SRE_POLICY})
        self.db = os.path.join(self.config, "state.db")
        self.box = Box(self.config, self.fake, db=self.db)

    def tearDown(self):
        self.box.stop()
        self.fake.stop()

    def run_job(self, word, timeout=15):
        return http("POST", self.box.url + "/api/v1/jobs", {"command": "echo", "positional": [word]},
                    {"Authorization": "Bearer " + API_TOKEN, "X-Meeseeks-As": "U_SRE"}, timeout=timeout)

    def test_a_locked_database_gives_clear_errors_then_recovers(self):
        self.assertEqual(self.run_job("before")[0], 202)
        locker = sqlite3.connect(self.db, timeout=30, isolation_level=None)
        locker.execute("BEGIN EXCLUSIVE")
        try:
            started = time.time()
            status, body, _ = self.run_job("during", timeout=30)
            took = time.time() - started
            self.assertEqual(status, 503, body)
            self.assertIn("database", json.loads(body)["error"])
            self.assertLess(took, 15, "a request waits for the lock a bounded time, then says why")
            # Slack's request is not acknowledged (Slack sends it again), rather than taken and lost.
            event = {"type": "app_mention", "user": "U_SRE", "text": "<@UBOT> echo slack", "ts": "5.1", "channel": "C0LOCK"}
            status, _, _ = self.box.event(event, event_id="EvLocked")
            self.assertEqual(status, 503)
            self.assertEqual(http("GET", self.box.url + "/healthz")[0], 200)
        finally:
            locker.execute("ROLLBACK")
            locker.close()
        # Released: the box works again by itself, and Slack's retry of the same event runs once.
        deadline = time.time() + 20
        while time.time() < deadline and self.run_job("after")[0] != 202:
            time.sleep(0.5)
        self.assertEqual(self.box.event(event, event_id="EvLocked")[0], 200)
        self.fake.wait_calls(lambda calls: any("said slack" in text_of(c) for c in calls), what="the retried request's result")
        status, text, _ = http("GET", self.box.url + "/api/v1/jobs?limit=20", None,
                               {"Authorization": "Bearer " + API_TOKEN, "X-Meeseeks-As": "U_SRE"})
        words = sorted(job["arguments"]["word"] for job in json.loads(text)["jobs"])
        self.assertEqual([w for w in words if w != "after"], ["before", "slack"], "nothing half-written while it was locked")


if __name__ == "__main__":
    unittest.main()
