"""The fault matrix's first round (issue 13): `kill -9` of the box twenty times in a row while
work is in flight: jobs queued, running on remote agents, and finishing while the box is down.
After the last restart every requested job has ended exactly once, each ran exactly once (the
programs' own ledger), and each Slack request got exactly one result in its thread."""
import json
import os
import random
import signal
import socket
import tempfile
import time
import unittest

from harness import API_TOKEN, BIN, SECRET, SRE_POLICY, Fake, Spawned, config_dir, http, text_of

AGENT_TOKEN = "fault-rounds-agent-token"
ROUNDS = int(os.environ.get("MEESEEKS_FAULT_ROUNDS", "20"))
CHANNEL = "C0FAULT"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class KillNineRounds(unittest.TestCase):
    def setUp(self):
        self.ledger = os.path.join(tempfile.mkdtemp(prefix="meeseeks-ledger-"), "ran")
        work = """name: work
summary: Note the tag, then take a while
run: [/bin/sh, -c, 'echo "$MEESEEKS_ARG_TAG" >> "$0"; sleep "$MEESEEKS_ARG_SECONDS"; echo "done $MEESEEKS_ARG_TAG"', "%s"]
args:
  - {name: tag, pattern: '^t[0-9]+$'}
  - {name: seconds, pattern: '^[0-9.]+$'}
""" % self.ledger
        self.config = config_dir({"commands.d/work.yaml": work, "policies.d/p.yaml": SRE_POLICY,
                                  "meeseeks.yaml": "agents: {lost_after: 30s}\n"})
        self.fake = Fake()
        self.grpc = "127.0.0.1:%d" % free_port()
        self.box = self.start_box()
        self.agents = [Spawned([os.path.join(BIN, "mrmeeseeks"), "--box", self.grpc, "--id", "a%d" % n, "--labels", "pool=x",
                                "--slots", "2", "--state", tempfile.mkdtemp(prefix="meeseeks-agent-")],
                               env=dict(os.environ, MEESEEKS_AGENT_TOKEN=AGENT_TOKEN)) for n in (1, 2)]
        for agent in self.agents:
            agent.wait_line("connected to the box", stream="err")

    def tearDown(self):
        for agent in self.agents:
            agent.stop()
        self.box.stop()
        self.fake.stop()

    def start_box(self):
        env = dict(os.environ, SLACK_API_URL=self.fake.url + "/api/", SLACK_BOT_TOKEN="xoxb-test", SLACK_SIGNING_SECRET=SECRET,
                   MEESEEKS_API_TOKEN=API_TOKEN, MEESEEKS_AGENT_TOKEN=AGENT_TOKEN)
        env.pop("SLACK_APP_TOKEN", None)
        box = Spawned([os.path.join(BIN, "meeseeks"), "serve", "--config", self.config, "--http", "127.0.0.1:0", "--grpc", self.grpc,
                       "--no-local-agent"], env=env)
        box.url = "http://" + box.wait_line("http listening on").split()[-1]
        return box

    def mention(self, tag, seconds):
        from slack_sdk.signature import SignatureVerifier
        ts = "%d.%06d" % (1000 + int(tag[1:]), 1)
        envelope = {"type": "event_callback", "event_id": "Ev" + tag, "event_time": int(time.time()),
                    "event": {"type": "app_mention", "user": "U_SRE", "text": "<@UBOT> work tag=%s seconds=%s" % (tag, seconds),
                              "ts": ts, "channel": CHANNEL}}
        body = json.dumps(envelope)
        stamp = str(int(time.time()))
        headers = {"X-Slack-Request-Timestamp": stamp, "Content-Type": "application/json",
                   "X-Slack-Signature": SignatureVerifier(SECRET).generate_signature(timestamp=stamp, body=body)}
        status, _, _ = http("POST", self.box.url + "/slack/events", body.encode(), headers)
        return status, ts

    def api(self, path):
        status, text, _ = http("GET", self.box.url + path, None, {"Authorization": "Bearer " + API_TOKEN, "X-Meeseeks-As": "U_SRE"})
        self.assertEqual(status, 200, text)
        return json.loads(text)

    def test_twenty_kill_nines_with_work_in_flight(self):
        rng = random.Random(20261203)
        asked = {}  # tag -> thread ts
        n = 0
        for round_number in range(ROUNDS):
            for _ in range(rng.randint(2, 4)):
                n += 1
                tag = "t%d" % n
                status, ts = self.mention(tag, "%.1f" % rng.choice([0.1, 0.5, 1.0, 2.0]))
                if status == 200:
                    asked[tag] = ts  # acknowledged: it must run exactly once
            time.sleep(rng.uniform(0.2, 1.0))
            self.box.proc.send_signal(signal.SIGKILL)
            self.box.proc.wait()
            time.sleep(rng.uniform(0.0, 1.5))  # jobs finish on the agents while the box is dark
            self.box = self.start_box()
        self.assertGreaterEqual(len(asked), ROUNDS * 2)
        # Every acknowledged request ends as one job, once; each ran once; each got one result.
        deadline = time.time() + 120
        while time.time() < deadline:
            jobs = self.api("/api/v1/jobs?limit=1000")["jobs"]
            if len(jobs) >= len(asked) and all(job["status"] not in ("queued", "running") for job in jobs):
                break
            time.sleep(0.5)
        by_tag = {}
        for job in jobs:
            by_tag.setdefault(job["arguments"]["tag"], []).append(job)
        # A request made while the agents were still reconnecting (their backoff grows over many
        # quick kills) is refused, once, and makes no job: answered, not lost.
        refused = {t for t, ts in asked.items() if any(c["args"].get("thread_ts") == ts and "no agent is connected" in text_of(c)
                                                      for c in self.fake.control("calls"))}
        self.assertEqual(sorted(refused & set(by_tag)), [], "a refused request made a job")
        asked = {t: ts for t, ts in asked.items() if t not in refused}
        self.assertGreaterEqual(len(asked), 5, "requests ran between the kills")
        missing = sorted(set(asked) - set(by_tag))
        said = {t: [text_of(c)[:200] for c in self.fake.control("calls") if c["args"].get("thread_ts") == asked[t]] for t in missing}
        self.assertEqual(missing, [], "acknowledged and lost; what their threads got: %s" % json.dumps(said, indent=1)[:3000])
        self.assertEqual(sorted(by_tag), sorted(asked), "jobs for requests never acknowledged")
        self.assertEqual([t for t, js in by_tag.items() if len(js) != 1], [], "a request made more than one job")
        self.assertEqual({t: js[0]["status"] for t, js in by_tag.items() if js[0]["status"] != "succeeded"}, {})
        with open(self.ledger) as f:
            ran = f.read().split()
        self.assertEqual(sorted(ran), sorted(asked), "each job's program runs exactly once")
        def results(calls):
            return [c for c in calls if c["method"] == "chat.postMessage" and c.get("ok") and "done t" in text_of(c)]
        self.fake.wait_calls(lambda calls: len({c["args"].get("thread_ts") for c in results(calls)}) >= len(asked),
                             timeout=60, what="a result for every request")
        time.sleep(2)  # anything sent twice would arrive by now
        threads = [c["args"].get("thread_ts") for c in results(self.fake.control("calls"))]
        self.assertEqual(sorted(threads), sorted(asked.values()), "each request gets exactly one result")


if __name__ == "__main__":
    unittest.main()
