"""What every benchmark shares: where the binaries are, a box to start, an API client, percentiles."""
import json
import os
import socket
import sys
import threading
import time
import urllib.parse

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(REPO, "Tests", "slack"))
from harness import API_TOKEN, SECRET, Spawned, config_dir, http  # noqa: E402,F401  (re-exported)

BIN = os.environ.get("MEESEEKS_BIN_DIR", os.path.join(REPO, ".build", "release"))
POLICY = "roles:\n  sre: {members: [U_SRE]}\ngrants:\n  - {roles: [sre], commands: [\"*\"]}\n"


def percentile(values, p):
    values = sorted(values)
    k = (len(values) - 1) * p / 100
    lo, hi = int(k), min(int(k) + 1, len(values) - 1)
    return values[lo] + (values[hi] - values[lo]) * (k - lo)


def box(config, *extra, env=None):
    e = dict(os.environ, MEESEEKS_API_TOKEN=API_TOKEN, MEESEEKS_AGENT_TOKEN="bench-agent")
    e.update(env or {})
    spawned = Spawned([os.path.join(BIN, "meeseeks"), "serve", "--config", config, "--http", "127.0.0.1:0",
                       "--grpc", "127.0.0.1:0", "--log-level", "warning", *extra], env=e)
    url = "http://" + spawned.wait_line("http listening on").split()[-1]
    grpc = spawned.wait_line("grpc listening on").split()[-1]
    return spawned, url, grpc


def api(url, method, path, body=None):
    status, text, _ = http(method, url + path, body, {"Authorization": "Bearer " + API_TOKEN, "X-Meeseeks-As": "U_SRE"})
    return status, (json.loads(text) if text else None)


class KeepAlive:
    """One persistent HTTP connection, so the client spends little CPU of the 2 cores the box needs."""

    def __init__(self, url):
        import http.client
        parsed = urllib.parse.urlparse(url)
        self.conn = http.client.HTTPConnection(parsed.hostname, parsed.port, timeout=30)
        self.headers = {"Authorization": "Bearer " + API_TOKEN, "X-Meeseeks-As": "U_SRE", "Content-Type": "application/json"}

    def call(self, method, path, body=None):
        self.conn.request(method, path, body=json.dumps(body) if body is not None else None, headers=self.headers)
        response = self.conn.getresponse()
        text = response.read()
        return response.status, (json.loads(text) if text else None)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def jobs_per_second(url, n, workers=4):
    """n jobs of the box's command `t` over the API by `workers` keep-alive clients, measured
    until the last result is stored."""
    KeepAlive(url).call("POST", "/api/v1/jobs", {"command": "t"})  # warm up
    time.sleep(0.5)
    ids, lock = [], threading.Lock()

    def submit(count):
        client = KeepAlive(url)
        for _ in range(count):
            status, job = client.call("POST", "/api/v1/jobs", {"command": "t"})
            assert status == 202, job
            with lock:
                ids.append(job["id"])

    started = time.perf_counter()
    threads = [threading.Thread(target=submit, args=(n // workers,)) for _ in range(workers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    poller = KeepAlive(url)
    last = max(ids)
    while True:
        # Cheap polling of the newest job; one full check once it has ended.
        _, detail = poller.call("GET", "/api/v1/jobs/%d" % last)
        if detail["job"]["status"] in ("queued", "running"):
            time.sleep(0.005)
            continue
        _, recent = poller.call("GET", "/api/v1/jobs?limit=1000")
        if all(j["status"] not in ("queued", "running") for j in recent["jobs"]):
            break
    return len(ids) / (time.perf_counter() - started), len(ids)
