"""The box on PostgreSQL beside the box on SQLite (jobs/s, Slack ack latency), and failover times
of two boxes on one PostgreSQL (kill -9 and SIGTERM of the leader)."""
import json
import os
import random
import shutil
import signal
import statistics
import sys
import time

from common import POLICY, REPO, SECRET, box, config_dir, http, jobs_per_second, percentile
from bench_slack import paced_latencies

sys.path.insert(0, os.path.join(REPO, "Tests", "cluster"))
from cluster import ClusterBox, Postgres, wait_for  # noqa: E402

TRUE = "name: t\nsummary: Runs true\nrun: [/bin/true]\n"


def store_side_by_side(postgres):
    """The same box, the same load, on SQLite and on PostgreSQL, in one run."""
    rows = []
    for name, db in (("SQLite (one box)", None), ("PostgreSQL (one box of a cluster)", postgres.database())):
        d = config_dir({"commands.d/t.yaml": TRUE, "policies.d/p.yaml": POLICY})
        extra = ["--local-slots", "2"] + (["--db", db] if db else [])
        spawned, url, _ = box(d, *extra, env={"SLACK_API_URL": "http://127.0.0.1:9/api/", "SLACK_BOT_TOKEN": "xoxb-x",
                                              "SLACK_SIGNING_SECRET": SECRET})
        try:
            if db:
                wait_for(lambda: _role(url) == "leader", "the box to lead")
            rate, _ = jobs_per_second(url, 1000)
            latencies, failures = paced_latencies(url + "/slack/interactivity", rate=300, seconds=5)
        finally:
            spawned.stop()
            shutil.rmtree(d)
        rows.append((name, rate, percentile(latencies, 50), percentile(latencies, 99), failures))
    return rows


def _role(url):
    status, body, _ = http("GET", url + "/readyz")
    return json.loads(body).get("role") if status == 200 else None


def failover_rounds(postgres, rounds=10):
    """Two boxes; each round takes the leader down (kill -9 or SIGTERM), times until the other
    leads, then restarts the one taken down as the standby."""
    config = config_dir({"commands.d/t.yaml": TRUE, "policies.d/p.yaml": POLICY})
    db = postgres.database()
    boxes = [ClusterBox("a", config, db, "http://127.0.0.1:9"), None]
    wait_for(lambda: boxes[0].role() == "leader", "box a to lead")
    boxes[1] = ClusterBox("b", config, db, "http://127.0.0.1:9")
    wait_for(lambda: boxes[1].role() == "standby", "box b to stand by")
    times = {"kill": [], "term": []}
    try:
        for how in ("kill", "term"):
            for _ in range(rounds):
                leader, standby = (boxes[0], boxes[1]) if boxes[0].role() == "leader" else (boxes[1], boxes[0])
                started = time.monotonic()
                if how == "kill":
                    leader.kill()
                else:
                    leader.spawned.proc.send_signal(signal.SIGTERM)
                wait_for(lambda: standby.role() == "leader", "the standby to lead", timeout=20, every=0.01)
                times[how].append(time.monotonic() - started)
                leader.spawned.proc.wait(timeout=30)
                leader.start()
                wait_for(lambda: leader.role() == "standby", "the restarted box to stand by")
                # Settle, then start the next round at a random point of the standby's 1 s tick
                # (right after a restart its first tick would come at once and flatter the figure).
                time.sleep(1.5 + random.random())
    finally:
        for b in boxes:
            b.stop(signal.SIGKILL)
        shutil.rmtree(config)
    return times


def bench_cluster():
    postgres = Postgres()
    try:
        side = store_side_by_side(postgres)
        times = failover_rounds(postgres)
    finally:
        postgres.stop()
    text = ("## PostgreSQL beside SQLite, and failover\n\nThe same box and load on each store, in one run: 1,000 jobs of "
            "`/bin/true` over the API by 4 keep-alive clients, run by the embedded agent (2 slots), until the last result is "
            "stored; then signed Slack interactions at a steady 300 requests/s for 5 s (each is recorded in the database "
            "before the 200: on PostgreSQL, its signature and the inbox row). PostgreSQL 15 runs on the same two cores "
            "(a throwaway cluster, fsync off as in the tests).\n\n"
            "| store | jobs/s | Slack ack p50 | p99 | failed |\n|---|---|---|---|---|\n")
    for name, rate, p50, p99, failures in side:
        text += "| %s | %.0f | %.2f ms | %.2f ms | %d |\n" % (name, rate, p50, p99, failures)
    text += ("\nFailover: two boxes on one PostgreSQL (`--lease 3`), the leader taken down 10 times each way, the time from "
             "the signal until the other box's `/readyz` says `leader` (polled every 10 ms); the box taken down is restarted "
             "as the standby, and the next round starts at a random point of its 1 s election tick.\n\n| leader taken down by | rounds | median | worst |\n|---|---|---|---|\n")
    for how, label in (("kill", "`kill -9`"), ("term", "`SIGTERM`")):
        text += "| %s | %d | %.2f s | %.2f s |\n" % (label, len(times[how]), statistics.median(times[how]), max(times[how]))
    return text
