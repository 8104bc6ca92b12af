"""Two boxes on one PostgreSQL, two remote agents, jobs submitted without pause through both
boxes' APIs and signed Slack requests to both; then the leader is killed (-9), stopped (SIGTERM),
or cut off from the database. Every acknowledged request must end as exactly one job, run
exactly once, with its Slack reply delivered exactly once; the standby must lead within 5 s."""
import json
import os
import signal
import threading
import time
import unittest

from cluster import ClusterBox, Postgres, Proxy, agent, config_folder, wait_for
from harness import Fake

CHANNEL = "C0HA"
# Slack posts about one message a second per channel: requests are spread over several.
CHANNELS = 10
POLICY = """roles:
  sre: {members: [U_SRE]}
grants:
  - {roles: [sre], commands: ["*"]}
"""


def record_command(ledger):
    """A job that writes one line when it starts and one when it ends, to a file the test reads."""
    return """name: record
summary: Write this job's id, epoch and tag to a ledger
args:
  - {name: tag, prompt: Tag?, pattern: '^[a-z0-9-]{1,40}$'}
script: |
  #!/bin/sh
  echo "start $MEESEEKS_JOB_ID $MEESEEKS_EPOCH $MEESEEKS_ARG_TAG $(date +%%s.%%N)" >> %s
  sleep 0.5
  echo "end $MEESEEKS_JOB_ID $MEESEEKS_ARG_TAG" >> %s
  echo "recorded $MEESEEKS_ARG_TAG"
confirm: false
timeout: 1m
""" % (ledger, ledger)


class Load:
    """Threads submitting `record` jobs, one API and one Slack thread per box, until stopped."""

    def __init__(self, boxes):
        self.boxes = boxes
        self.results = []  # (kind, box, tag, status or None, job id or None)
        self.lock = threading.Lock()
        self.sent_at = {}
        self.running = True
        self.threads = [threading.Thread(target=self._submit, args=(kind, box), daemon=True)
                        for box in boxes for kind in ("api", "slack")]
        for t in self.threads:
            t.start()

    def _submit(self, kind, box):
        n = 0
        while self.running:
            n += 1
            tag = "%s-%s-%d" % (kind, box.name, n)
            status, job = None, None
            sent = time.monotonic()
            try:
                if kind == "api":
                    status, body, _ = box.api("POST", "jobs", {"command": "record", "arguments": {"tag": tag}})
                    job = str(json.loads(body)["id"]) if status == 202 else body
                else:
                    event = {"type": "app_mention", "user": "U_SRE", "text": "<@UBOT> record tag=" + tag,
                             "channel": "%s%d" % (CHANNEL, n % CHANNELS),
                             "ts": "%.6f" % time.time()}
                    envelope = {"token": "x", "team_id": "T0FAKE", "api_app_id": "A0FAKE", "type": "event_callback",
                                "event": event, "event_id": "Ev" + tag, "event_time": int(time.time())}
                    status, _, _ = box_signed(box, "/slack/events", json.dumps(envelope))
            except OSError:
                status = None  # the box is down: a load balancer would send this elsewhere
            with self.lock:
                self.results.append((kind, box.name, tag, status, job))
                self.sent_at[tag] = sent
            time.sleep(0.15 if kind == "api" else 0.3)

    def stop(self):
        self.running = False
        for t in self.threads:
            t.join(timeout=30)

    def answered(self, kind):
        return [r for r in self.results if r[0] == kind and r[3] is not None]


def result_of(tag):
    """The job's output line as it appears in a Slack call's JSON (the newline escaped)."""
    return "recorded " + tag + "\\n"


def box_signed(box, path, body):
    from harness import SECRET, http
    from slack_sdk.signature import SignatureVerifier
    ts = str(int(time.time()))
    headers = {"X-Slack-Request-Timestamp": ts, "Content-Type": "application/json",
               "X-Slack-Signature": SignatureVerifier(SECRET).generate_signature(timestamp=ts, body=body)}
    return http("POST", box.url + path, body.encode(), headers, timeout=10)


class Failover(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.postgres = Postgres()
        cls.fake = Fake()

    @classmethod
    def tearDownClass(cls):
        cls.fake.stop()
        cls.postgres.stop()

    def setUp(self):
        self.fake.control("reset")
        self.db = self.postgres.database()
        self.ledger = os.path.join(config_folder({}), "ledger")
        self.config = config_folder({"commands.d/record.yaml": record_command(self.ledger), "policies.d/p.yaml": POLICY})
        self.proxy = Proxy(int(self.db.rsplit(":", 1)[1].split("/")[0]))
        self.boxes, self.agents = [], []

    def tearDown(self):
        if os.environ.get("MEESEEKS_CLUSTER_LOGS"):
            folder = os.environ["MEESEEKS_CLUSTER_LOGS"]
            with open(os.path.join(folder, "slack-calls.json"), "w") as f:
                json.dump(self.fake.calls(ok=False), f, indent=1)
            for b in self.boxes:
                with open(os.path.join(folder, "box-%s.log" % b.name), "w") as f:
                    f.write("".join(b.spawned.err))
            for n, a in enumerate(self.agents):
                with open(os.path.join(folder, "agent-%d.log" % n), "w") as f:
                    f.write("".join(a.err))
        for a in self.agents:
            a.stop()
        for b in self.boxes:
            b.stop(signal.SIGKILL)
        self.proxy.close()

    def start_cluster(self, first_through_proxy=False):
        url_a = self.db.replace(":%d/" % self.proxy.target[1], ":%d/" % self.proxy.port) if first_through_proxy else self.db
        a = ClusterBox("a", self.config, url_a, self.fake.url)
        wait_for(lambda: a.role() == "leader", "box a to lead")
        b = ClusterBox("b", self.config, self.db, self.fake.url)
        wait_for(lambda: b.role() == "standby", "box b to stand by")
        self.boxes = [a, b]
        for name in ("one", "two"):
            spawned = agent(name, self.boxes)
            spawned.wait_line("connected to the box", stream="err")
            self.agents.append(spawned)
        return a, b

    def jobs(self):
        rows = self.postgres.sql("SELECT id, status, arguments FROM jobs ORDER BY id", self.db)
        return [(row[0], row[1], json.loads(row[2]).get("tag")) for row in rows]

    def ledger_lines(self):
        with open(self.ledger) as f:
            return [line.split() for line in f]

    def fail_over(self, leader, standby, how):
        """Takes the leader down `how`; returns the seconds until the standby leads."""
        load = Load(self.boxes)
        time.sleep(3)
        started = time.monotonic()
        if how == "kill":
            leader.kill()
        elif how == "term":
            leader.stop(signal.SIGTERM)
        else:
            self.proxy.cut()
        wait_for(lambda: standby.role() == "leader", "the standby to lead", timeout=15, every=0.02)
        took = time.monotonic() - started
        time.sleep(3)
        load.stop()
        self.cut_at = started
        return took, load

    def check_exactly_once(self, load, unreachable=None):
        """`unreachable`: (box name, since) of a box cut off from the database, which may refuse
        requests from then on with 503, and only so."""
        def excused(box, tag, status, body=""):
            # Until it steps down, the cut-off box may also see its agents leave (they cannot
            # register with it) and refuse for want of one: a refusal, not a loss.
            if not (unreachable and box == unreachable[0] and load.sent_at[tag] >= unreachable[1]):
                return False
            return status == 503 or (status == 403 and "no agent is connected" in body)

        # Every acknowledged Slack request becomes a job (the work goes on after the answer).
        acknowledged = {tag for _, _, tag, status, _ in load.answered("slack") if status == 200}
        self.assertTrue(acknowledged)
        try:
            wait_for(lambda: acknowledged <= {tag for _, _, tag in self.jobs()}, "every acknowledged Slack request's job", timeout=30)
        except AssertionError:
            missing = sorted(acknowledged - {tag for _, _, tag in self.jobs()})
            said = [c for c in self.fake.calls(ok=False) if any(tag in json.dumps(c) for tag in missing)]
            self.fail("acknowledged Slack requests without a job: %s; Slack was told: %s" % (missing, json.dumps(said)[:3000]))
        # Every job ends, and ends well (the agents are remote: nothing dies with the leader).
        wait_for(lambda: all(status not in ("queued", "running") for _, status, _ in self.jobs()), "every job to end", timeout=90)
        jobs = self.jobs()
        self.assertTrue(jobs, "no job was submitted")
        if {status for _, status, _ in jobs} != {"succeeded"}:
            self.fail("jobs that did not succeed: %s" % self.postgres.sql(
                "SELECT id, status, agent, reason FROM jobs WHERE status <> 'succeeded'", self.db))
        # One job per tag: no request became two jobs.
        tags = [tag for _, _, tag in jobs]
        self.assertEqual(len(tags), len(set(tags)), "a request became two jobs")
        by_tag = {tag: job for job, _, tag in jobs}
        # Every acknowledged request has its job: the API's with the id it was given.
        for kind, box, tag, status, job in load.answered("api"):
            if status == 202:
                self.assertEqual(by_tag.get(tag), job, tag)
            elif not excused(box, tag, status, job):
                self.fail("API %s on box %s answered %s: %s" % (tag, box, status, job))
        for kind, box, tag, status, _ in load.answered("slack"):
            if excused(box, tag, status):
                continue
            self.assertEqual(status, 200, "Slack request %s to box %s answered %s" % (tag, box, status))
            self.assertIn(tag, by_tag, "acknowledged Slack request %s has no job" % tag)
        # Each job ran exactly once.
        starts = [line[1] for line in self.ledger_lines() if line[0] == "start"]
        ends = [line[1] for line in self.ledger_lines() if line[0] == "end"]
        self.assertEqual(sorted(starts), sorted(by_tag.values()), "a job ran twice or not at all")
        self.assertEqual(sorted(ends), sorted(by_tag.values()))
        # Each Slack job's result reached Slack exactly once.
        slack_tags = [tag for tag in by_tag if tag.startswith("slack-")]

        def delivered(calls):
            texts = [json.dumps(c) for c in calls if c.get("ok") and c["method"] in ("chat.postMessage", "chat.update")]
            return all(any(result_of(tag) in t and "All done" in t for t in texts) for tag in slack_tags)
        calls = self.fake.wait_calls(delivered, timeout=120, what="every Slack job's result")
        for tag in slack_tags:
            finals = [c for c in calls if c.get("ok") and result_of(tag) in json.dumps(c) and "All done" in json.dumps(c)]
            self.assertEqual(len(finals), 1, "%s: %d results delivered: %s" % (tag, len(finals), json.dumps(finals)[:3000]))
        return jobs

    def test_kill_9_of_the_leader(self):
        a, b = self.start_cluster()
        took, load = self.fail_over(a, b, "kill")
        self.assertLess(took, 5.0, "the standby took %.1f s to lead" % took)
        self.check_exactly_once(load)
        print("\nkill -9 failover: %.2f s, %d jobs" % (took, len(self.jobs())))

    def test_sigterm_of_the_leader_hands_over_in_about_a_second(self):
        a, b = self.start_cluster()
        took, load = self.fail_over(a, b, "term")
        self.assertLess(took, 2.5, "the standby took %.1f s to lead" % took)
        self.check_exactly_once(load)
        print("\nSIGTERM handover: %.2f s" % took)

    def test_a_leader_cut_off_from_the_database_stops_before_the_next_starts(self):
        a, b = self.start_cluster(first_through_proxy=True)
        took, load = self.fail_over(a, b, "cut")
        self.assertLess(took, 5.0, "the standby took %.1f s to lead" % took)
        self.check_exactly_once(load, unreachable=("a", self.cut_at))
        # The old leader's last dispatch started before the new leader's first.
        starts = [(int(line[2]), float(line[4])) for line in self.ledger_lines() if line[0] == "start"]
        epochs = sorted({epoch for epoch, _ in starts})
        self.assertEqual(len(epochs), 2, epochs)
        old, new = epochs
        self.assertLess(max(t for e, t in starts if e == old), min(t for e, t in starts if e == new))


if __name__ == "__main__":
    unittest.main()
