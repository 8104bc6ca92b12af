"""Soak: signed Slack interactions at a steady rate plus a steady stream of jobs through remote
agents, for a long time. Passes only with zero failed requests, zero lost or failed jobs, resident
memory flat from the middle of the run to its end, and no growth in open file descriptors.

    scripts/soak                       10 minutes at 1,000 interactions/s on a release build
    Benchmarks/soak.py --seconds 60    (MEESEEKS_BIN_DIR names the binaries)

Prints a Markdown report (for RELIABILITY.md) and exits 1 when a condition fails.
"""
import argparse
import json
import os
import shutil
import sys
import tempfile
import threading
import time
import urllib.parse

from slack_sdk.signature import SignatureVerifier

from common import BIN, POLICY, SECRET, KeepAlive, Spawned, api, box, config_dir

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "Tests", "slack"))
from harness import Fake  # noqa: E402

COMMAND = "name: t\nsummary: Echoes\nrun: [/bin/echo, soak]\n"


def memory_kib(pid):
    """(resident, of which anonymous: the heap and stacks; the rest is mapped files, mostly code
    paged in as it first runs)."""
    found = {}
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith(("VmRSS:", "RssAnon:")):
                found[line.split(":")[0]] = int(line.split()[1])
    return found.get("VmRSS", 0), found.get("RssAnon", 0)


def open_fds(pid):
    return len(os.listdir("/proc/%d/fd" % pid))


class Interactions:
    """Signed `block_actions` at `rate` per second from paced keep-alive clients; every answer that
    is not a 200 (or no answer) is a failure."""

    def __init__(self, url, rate, threads=8):
        self.url = urllib.parse.urlparse(url + "/slack/interactivity")
        self.rate, self.threads = rate, threads
        self.sent = self.failed = 0
        self.failures = []
        self.lock = threading.Lock()
        self.stopping = threading.Event()

    def signed(self, n):
        # A stale dialog's button: the box verifies, stores, acknowledges, then answers it as stale.
        payload = {"type": "block_actions", "user": {"id": "U_SRE"}, "trigger_id": "1.2.%d" % n, "channel": {"id": "C1"},
                   "team": {"id": "T1"}, "api_app_id": "A1", "token": "x",
                   "actions": [{"action_id": "pick", "block_id": "mx:soak-%d:1:0" % n, "type": "button", "value": "t"}]}
        body = urllib.parse.urlencode({"payload": json.dumps(payload)})
        ts = str(int(time.time()))
        return body, {"Content-Type": "application/x-www-form-urlencoded", "X-Slack-Request-Timestamp": ts,
                      "X-Slack-Signature": SignatureVerifier(SECRET).generate_signature(timestamp=ts, body=body)}

    def worker(self, index):
        import http.client
        connect = lambda: http.client.HTTPConnection(self.url.hostname, self.url.port, timeout=10)  # noqa: E731
        conn = connect()
        interval = self.threads / self.rate
        next_at = time.perf_counter() + index * interval / self.threads
        body, headers, signed_at, n = None, None, 0, 0
        while not self.stopping.is_set():
            if time.time() - signed_at > 30:  # Slack's signatures are good for 5 minutes
                n += 1
                body, headers = self.signed(index * 1_000_000 + n)
                signed_at = time.time()
            delay = next_at - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
            next_at += interval
            try:
                conn.request("POST", self.url.path, body=body, headers=headers)
                response = conn.getresponse()
                response.read()
                ok, why = response.status == 200, "HTTP %d" % response.status
            except Exception as error:  # a refused or dropped connection is a failed request
                ok, why = False, repr(error)
                conn = connect()
            with self.lock:
                self.sent += 1
                if not ok:
                    self.failed += 1
                    if len(self.failures) < 10:
                        self.failures.append(why)

    def start(self):
        self.workers = [threading.Thread(target=self.worker, args=(i,), daemon=True) for i in range(self.threads)]
        for t in self.workers:
            t.start()

    def stop(self):
        self.stopping.set()
        for t in self.workers:
            t.join()


class Jobs:
    """One job every 1/`rate` s over the API, each kept so its ending can be checked."""

    def __init__(self, url, rate):
        self.url, self.rate = url, rate
        self.ids, self.refused = [], []
        self.stopping = threading.Event()

    def run(self):
        client = KeepAlive(self.url)
        next_at = time.perf_counter()
        while not self.stopping.is_set():
            status, job = client.call("POST", "/api/v1/jobs", {"command": "t"})
            if status == 202:
                self.ids.append(job["id"])
            else:
                self.refused.append((status, job))
            next_at += 1 / self.rate
            time.sleep(max(0, next_at - time.perf_counter()))

    def start(self):
        self.thread = threading.Thread(target=self.run, daemon=True)
        self.thread.start()

    def stop(self):
        self.stopping.set()
        self.thread.join()

    def outcomes(self, timeout=120):
        """Status of every job once none is queued or running (or `timeout` passes)."""
        client = KeepAlive(self.url)
        deadline = time.time() + timeout
        while True:
            statuses = {}
            for job_id in self.ids:
                _, detail = client.call("GET", "/api/v1/jobs/%d" % job_id)
                statuses[job_id] = detail["job"]["status"]
            if time.time() > deadline or all(s not in ("queued", "running") for s in statuses.values()):
                return statuses
            time.sleep(1)


def soak(seconds, rate, jobs_rate, agents):
    work = tempfile.mkdtemp(prefix="meeseeks-soak-")
    config = config_dir({"commands.d/t.yaml": COMMAND, "policies.d/p.yaml": POLICY})
    fake = Fake()
    spawned, url, grpc = box(config, "--no-local-agent", "--db", os.path.join(work, "box.db"),
                             env={"SLACK_API_URL": fake.url + "/api/", "SLACK_BOT_TOKEN": "xoxb-soak", "SLACK_SIGNING_SECRET": SECRET})
    fleet = [Spawned([os.path.join(BIN, "mrmeeseeks"), "--box", grpc, "--labels", "env=soak", "--id", "soak-%d" % i,
                      "--state", os.path.join(work, "agent-%d" % i), "--slots", "4", "--log-level", "warning"],
                     env=dict(os.environ, MEESEEKS_AGENT_TOKEN="bench-agent")) for i in range(agents)]
    processes = {"box": spawned.proc.pid, **{"agent %d" % i: a.proc.pid for i, a in enumerate(fleet)}}
    samples = []  # (seconds into the run, {name: ((rss KiB, anonymous KiB), fds)})
    try:
        deadline = time.time() + 30
        while time.time() < deadline and len(api(url, "GET", "/api/v1/agents")[1]["agents"]) < agents:
            time.sleep(0.1)
        interactions, jobs = Interactions(url, rate), Jobs(url, jobs_rate)
        started = time.time()
        interactions.start()
        jobs.start()
        while time.time() - started < seconds:
            time.sleep(1)
            samples.append((time.time() - started, {name: (memory_kib(pid), open_fds(pid)) for name, pid in processes.items()}))
        interactions.stop()
        jobs.stop()
        elapsed = time.time() - started
        statuses = jobs.outcomes()
        alive = spawned.proc.poll() is None and all(a.proc.poll() is None for a in fleet)
    finally:
        for agent in fleet:
            agent.stop()
        spawned.stop()
        fake.stop()
        shutil.rmtree(work, ignore_errors=True)
        shutil.rmtree(config, ignore_errors=True)
    return report(seconds, rate, jobs_rate, agents, elapsed, interactions, jobs, statuses, samples, alive)


def report(seconds, rate, jobs_rate, agents, elapsed, interactions, jobs, statuses, samples, alive):
    # Start is taken after a tenth of the run (caches and pools filled), middle and end as named.
    start = samples[max(0, len(samples) // 10 - 1)][1]
    middle = samples[len(samples) // 2][1]
    end = samples[-1][1]
    unfinished = sorted(i for i, s in statuses.items() if s != "succeeded")
    problems = []
    if interactions.failed:
        problems.append("%d interactions failed (%s)" % (interactions.failed, "; ".join(interactions.failures)))
    if jobs.refused:
        problems.append("%d jobs refused: %s" % (len(jobs.refused), jobs.refused[:3]))
    if unfinished:
        problems.append("%d jobs did not succeed: %s" % (len(unfinished), {i: statuses[i] for i in unfinished[:5]}))
    if not alive:
        problems.append("a process exited during the run")
    if interactions.sent < 0.9 * rate * seconds:
        problems.append("only %d interactions were sent of the %d asked for" % (interactions.sent, rate * seconds))
    rows, growth = [], []
    for name in start:
        ((rss0, anon0), fd0), ((rss1, anon1), fd1), ((rss2, anon2), fd2) = start[name], middle[name], end[name]
        rows.append("| %s | %.1f | %.1f | %.1f | %.1f | %.1f | %.1f | %d | %d | %d |" % (
            name, rss0 / 1024, rss1 / 1024, rss2 / 1024, anon0 / 1024, anon1 / 1024, anon2 / 1024, fd0, fd1, fd2))
        growth.append("| %s | %s |" % (name, " | ".join("%+.0f" % rate for rate in anonymous_growth(samples, name))))
        # Flat: the second half adds at most a tenth (and 8 MiB of slack for allocator noise).
        if rss2 > rss1 * 1.10 + 8 * 1024:
            problems.append("%s grew from %.1f to %.1f MiB in the second half" % (name, rss1 / 1024, rss2 / 1024))
        if fd2 > fd0 + 8:
            problems.append("%s's open files grew from %d to %d" % (name, fd0, fd2))
    text = ("## Soak: %d s, %d signed interactions/s and %s jobs/s through %d remote agents\n\n"
            "| | asked | done |\n|---|---|---|\n"
            "| interactions | %d/s | %d sent (%.0f/s), %d failed |\n"
            "| jobs | %s/s | %d submitted, %d succeeded, %d refused, %d not succeeded |\n\n"
            "| process | RSS start MiB | middle | end | of which anonymous: start | middle | end | open fds start | middle | end |\n"
            "|---|---|---|---|---|---|---|---|---|---|\n%s\n\n"
            "Anonymous memory's growth in KiB a minute, in each third of the run after the first tenth (a leak grows "
            "at a steady rate; a heap reaching its high-water mark slows down):\n\n"
            "| process | first third | second | last |\n|---|---|---|---|\n%s\n\n"
            % (seconds, rate, jobs_rate, agents, rate, interactions.sent, interactions.sent / elapsed, interactions.failed,
               jobs_rate, len(jobs.ids), len(jobs.ids) - len(unfinished), len(jobs.refused), len(unfinished), "\n".join(rows), "\n".join(growth)))
    text += ("**Failed:** " + "; ".join(problems) + "\n") if problems else "**Passed:** nothing failed, lost or grew.\n"
    return text, problems


def anonymous_growth(samples, name):
    """KiB a minute of `name`'s anonymous memory over each third of the samples after the first tenth."""
    kept = samples[len(samples) // 10:]
    bounds = [kept[min(len(kept) - 1, len(kept) * k // 3)] for k in range(4)]
    rates = []
    for (t0, at0), (t1, at1) in zip(bounds, bounds[1:]):
        rates.append((at1[name][0][1] - at0[name][0][1]) / max(t1 - t0, 1e-9) * 60)
    return rates


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=int, default=600)
    parser.add_argument("--rate", type=int, default=1000, help="signed Slack interactions per second")
    parser.add_argument("--jobs", type=float, default=5, help="jobs per second through the agents")
    parser.add_argument("--agents", type=int, default=2)
    options = parser.parse_args()
    text, problems = soak(options.seconds, options.rate, options.jobs, options.agents)
    print(text)
    sys.exit(1 if problems else 0)


if __name__ == "__main__":
    main()
