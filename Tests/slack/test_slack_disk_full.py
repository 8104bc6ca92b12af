"""The fault matrix's disk-full round (issue 13): the box's database may not grow, as on a full
disk. Requests that need space get a clear error (Slack's are not acknowledged, so Slack sends them
again), nothing is half-written, the box stays up, and it recovers by itself once space returns.

A full disk is made with RLIMIT_FSIZE, set on the running box with prlimit(2): writes that would
grow a file past the limit fail, as a full disk refuses new blocks while rewriting old ones works.
The box ignores SIGXFSZ, as a server must, so the failed write is an error it handles."""
import json
import os
import resource
import time
import unittest

from harness import API_TOKEN, ECHO, SRE_POLICY, Box, Fake, config_dir, http, text_of

SLOW = """name: slow
summary: Finishes while the disk is full
run: ["/bin/sh", "-c", "sleep 1.5; echo slow done"]
"""
HEADERS = {"Authorization": "Bearer " + API_TOKEN, "X-Meeseeks-As": "U_SRE"}


class DiskFull(unittest.TestCase):
    def setUp(self):
        self.fake = Fake()
        self.config = config_dir({"commands.d/echo.yaml": ECHO, "commands.d/slow.yaml": SLOW, "policies.d/p.yaml": SRE_POLICY})
        self.db = os.path.join(self.config, "state.db")
        self.box = Box(self.config, self.fake, db=self.db)
        self.pid = self.box.spawned.proc.pid

    def tearDown(self):
        self.box.stop()
        self.fake.stop()

    def run_job(self, word, timeout=15):
        return http("POST", self.box.url + "/api/v1/jobs", {"command": "echo", "positional": [word]}, HEADERS, timeout=timeout)

    def jobs(self):
        status, text, _ = http("GET", self.box.url + "/api/v1/jobs?limit=1000", None, HEADERS)
        self.assertEqual(status, 200, text)
        return json.loads(text)["jobs"]

    def test_a_full_disk_gives_clear_errors_then_recovers(self):
        self.assertEqual(self.run_job("before")[0], 202)
        # A job that ends, and prints, while the disk is full: its end and output must not be dropped.
        status, body, _ = http("POST", self.box.url + "/api/v1/jobs", {"command": "slow"}, HEADERS)
        self.assertEqual(status, 202, body)
        slow = json.loads(body)["id"]
        time.sleep(0.5)
        largest = max(os.path.getsize(self.db + suffix) for suffix in ("", "-wal") if os.path.exists(self.db + suffix))
        resource.prlimit(self.pid, resource.RLIMIT_FSIZE, (largest, resource.RLIM_INFINITY))
        accepted, refused = [], []
        try:
            # Writes fit in the space the files already have until they do not.
            for n in range(300):
                status, body, _ = self.run_job("full%d" % n)
                if status == 202:
                    accepted.append("full%d" % n)
                    continue
                self.assertEqual(status, 503, body)
                self.assertIn("database", json.loads(body)["error"])
                refused.append("full%d" % n)
                if len(refused) >= 3:
                    break
            self.assertEqual(len(refused), 3, "the database never filled up")
            event = {"type": "app_mention", "user": "U_SRE", "text": "<@UBOT> echo slack", "ts": "5.1", "channel": "C0FULL"}
            self.assertEqual(self.box.event(event, event_id="EvFull")[0], 503, "Slack's request is not taken and lost")
            self.assertEqual(http("GET", self.box.url + "/healthz")[0], 200)
            self.assertIsNone(self.box.spawned.proc.poll(), "the box is still running")
            time.sleep(2)  # the slow job ends meanwhile
        finally:
            resource.prlimit(self.pid, resource.RLIMIT_FSIZE, (resource.RLIM_INFINITY, resource.RLIM_INFINITY))
        # Space is back: the box works again by itself, and Slack's retry of the event runs once.
        deadline = time.time() + 20
        while time.time() < deadline and self.run_job("after")[0] != 202:
            time.sleep(0.5)
        self.assertEqual(self.box.event(event, event_id="EvFull")[0], 200)
        self.fake.wait_calls(lambda calls: any("said slack" in text_of(c) for c in calls), what="the retried request's result")
        deadline = time.time() + 30
        while time.time() < deadline and any(j["status"] in ("queued", "running") for j in self.jobs()):
            time.sleep(0.2)
        jobs = self.jobs()
        words = [j["arguments"]["word"] for j in jobs if j["command"] == "echo"]
        self.assertEqual(sorted(w for w in words if w != "after"), sorted(["before", "slack"] + accepted),
                         "every accepted request made one job, and no refused one made any")
        self.assertEqual({j["status"] for j in jobs}, {"succeeded"})
        status, output, _ = http("GET", self.box.url + "/api/v1/jobs/%d/output" % slow, None, HEADERS)
        self.assertEqual((status, output), (200, "slow done\n"), "the output printed while the disk was full")


if __name__ == "__main__":
    unittest.main()
