#!/usr/bin/env python3
"""Meeseeks Box benchmarks. Run them all with `scripts/bench`; each prints a Markdown section.

    lint      load + lint of 10,000 generated command files
    jobs      end-to-end jobs per second (queued → run → result stored) beside a raw spawn loop
    slack     signed interaction → HTTP 200 latency and throughput, beside a minimal slack_bolt app
    dispatch  job accepted → process started on a remote agent, and → result stored; agent idle RSS
    reload    ten reloads of a 1,000-command configuration under a steady stream of Slack requests
"""
import json
import os
import platform
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(REPO, "Tests", "slack"))
from harness import API_TOKEN, SECRET, Spawned, config_dir, http  # noqa: E402
from slack_sdk.signature import SignatureVerifier  # noqa: E402

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


# --- lint -------------------------------------------------------------------------------------

def bench_lint():
    d = config_dir({"policies.d/p.yaml": POLICY})
    os.makedirs(os.path.join(d, "commands.d"), exist_ok=True)
    for i in range(10_000):
        # 50 distinct patterns and selectors, as teams reuse a few across many commands.
        v = i % 50
        with open(os.path.join(d, "commands.d", "c%05d.yaml" % i), "w") as f:
            f.write("name: c%05d\nsummary: Command %d\nrun: [\"/usr/local/bin/tool\", \"{{service}}\", \"--reason\", \"{{reason}}\"]\n"
                    "args:\n  - {name: service, choices: [nginx, postgres, redis]}\n"
                    "  - {name: reason, type: text, pattern: '^[a-z ]{3,%d}$', required: false, default: routine}\n"
                    "confirm: \"Run on {{targets}}?\"\ntimeout: 2m\ntarget: {selector: \"env in (stg, prd), role = web%d\"}\n"
                    % (i, i, 30 + v, v))
    runs = []
    for _ in range(5):
        started = time.perf_counter()
        result = subprocess.run([os.path.join(BIN, "meeseeks"), "lint", "--config", d], capture_output=True, text=True)
        runs.append(time.perf_counter() - started)
        assert result.returncode == 0, result.stderr[-2000:]
    shutil.rmtree(d)
    return ("## Load + lint of 10,000 command files\n\n`meeseeks lint --config DIR` on 10,000 generated command files "
            "(two arguments, a pattern, a selector, a confirm template each; 50 distinct patterns and selectors) and a policy; "
            "5 runs, whole process (files are read and decoded on both cores).\n\n"
            "| median | best | worst | target |\n|---|---|---|---|\n| %.3f s | %.3f s | %.3f s | < 1 s |\n"
            % (statistics.median(runs), min(runs), max(runs)))


# --- jobs -------------------------------------------------------------------------------------

def raw_spawn_rate(n):
    started = time.perf_counter()
    for _ in range(n):
        pid = os.posix_spawn("/bin/true", ["/bin/true"], os.environ)
        os.waitpid(pid, 0)
    return n / (time.perf_counter() - started)


def bench_jobs(n=2000, workers=4):
    d = config_dir({"commands.d/t.yaml": "name: t\nsummary: Runs true\nrun: [/bin/true]\n", "policies.d/p.yaml": POLICY})
    spawned, url, _ = box(d, "--local-slots", "2")
    try:
        api(url, "POST", "/api/v1/jobs", {"command": "t", "positional": [], "arguments": {}})  # warm up
        time.sleep(0.5)
        ids = []
        lock = threading.Lock()

        def submit(count):
            client = KeepAlive(url)
            for _ in range(count):
                status, job = client.call("POST", "/api/v1/jobs", {"command": "t", "positional": [], "arguments": {}})
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
        elapsed = time.perf_counter() - started
        box_rate = len(ids) / elapsed
    finally:
        spawned.stop()
        shutil.rmtree(d)
    raw = raw_spawn_rate(n)
    return ("## End-to-end jobs per second\n\n%d jobs of `/bin/true` submitted over the HTTP API by %d clients, each stored, "
            "queued, run by the embedded agent (2 slots) and its result stored, measured until the last one is recorded; "
            "beside a raw `posix_spawn` + `waitpid` loop of `/bin/true` in the same run.\n\n"
            "| box (jobs/s) | raw spawn loop (/s) | ratio | goal |\n|---|---|---|---|\n| %.0f | %.0f | %.2f | ≥ 0.5 |\n"
            % (len(ids), workers, box_rate, raw, box_rate / raw))


# --- slack ------------------------------------------------------------------------------------

BOLT_APP = r'''
import os, sys
from slack_bolt.async_app import AsyncApp
from slack_bolt.authorization import AuthorizeResult

async def authorize(enterprise_id, team_id, logger):
    # No network: the same fixed bot the box is configured with.
    return AuthorizeResult(enterprise_id=enterprise_id, team_id=team_id, bot_token="xoxb-test", bot_user_id="UBOT", bot_id="BBOT")

app = AsyncApp(signing_secret=os.environ["SECRET"], authorize=authorize, process_before_response=False)

@app.action("pick")
async def pick(ack):
    await ack()

app.start(port=int(sys.argv[1]), path="/slack/interactivity")
'''

WRK_SCRIPT = r'''
wrk.method = "POST"
wrk.body = BODY
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
wrk.headers["X-Slack-Request-Timestamp"] = "TS"
wrk.headers["X-Slack-Signature"] = "SIG"
'''


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def signed_interaction():
    payload = {"type": "block_actions", "user": {"id": "U_SRE"}, "trigger_id": "1.2.3", "channel": {"id": "C1"}, "team": {"id": "T1"},
               "api_app_id": "A1", "token": "x",
               "actions": [{"action_id": "pick", "block_id": "mx:bench:1:0", "type": "button", "value": "hello"}]}
    body = urllib.parse.urlencode({"payload": json.dumps(payload)})
    ts = str(int(time.time()))
    return body, ts, SignatureVerifier(SECRET).generate_signature(timestamp=ts, body=body)


def wrk(url, rate=None, seconds=10, connections=16):
    body, ts, sig = signed_interaction()
    script = tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False)
    script.write(WRK_SCRIPT.replace("BODY", json.dumps(body)).replace("TS", ts).replace("SIG", sig))
    script.close()
    argv = ["wrk", "-t2", "-c%d" % connections, "-d%ds" % seconds, "--latency", "-s", script.name, url]
    result = subprocess.run(argv, capture_output=True, text=True)
    out = result.stdout
    os.unlink(script.name)
    found = re.search(r"Requests/sec:\s+([\d.]+)", out)
    if found is None:
        raise RuntimeError("wrk against %s failed: %s %s" % (url, out, result.stderr))
    rps = float(found.group(1))
    lat = dict(re.findall(r"\s+(50|99)%\s+([\d.]+\w+)", out))
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return rps, lat.get("50"), lat.get("99"), int(non2xx.group(1)) if non2xx else 0


def paced_latencies(url, rate=1000, seconds=5):
    """Sends at a steady rate from a thread pool and measures each request's latency (ms)."""
    import http.client
    body, ts, sig = signed_interaction()
    headers = {"Content-Type": "application/x-www-form-urlencoded", "X-Slack-Request-Timestamp": ts, "X-Slack-Signature": sig}
    parsed = urllib.parse.urlparse(url)
    latencies, failures = [], [0]
    lock = threading.Lock()
    per_thread = 8
    interval = per_thread / rate
    deadline = time.time() + seconds

    def worker(offset):
        conn = http.client.HTTPConnection(parsed.hostname, parsed.port, timeout=5)
        next_at = time.perf_counter() + offset
        while time.time() < deadline:
            delay = next_at - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
            next_at += interval
            started = time.perf_counter()
            try:
                conn.request("POST", parsed.path, body=body, headers=headers)
                response = conn.getresponse()
                response.read()
                ok = response.status == 200
            except Exception:
                ok = False
                conn = http.client.HTTPConnection(parsed.hostname, parsed.port, timeout=5)
            with lock:
                latencies.append((time.perf_counter() - started) * 1000)
                if not ok:
                    failures[0] += 1

    threads = [threading.Thread(target=worker, args=(i * interval / per_thread,)) for i in range(per_thread)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return latencies, failures[0]


def bench_slack():
    d = config_dir({"commands.d/t.yaml": "name: t\nsummary: Runs true\nrun: [/bin/true]\n", "policies.d/p.yaml": POLICY})
    fake = Spawned([sys.executable, os.path.join(REPO, "Tests", "slack", "fake_slack.py"), "--port", "0"])
    fake_port = int(fake.wait_line("fake slack listening on").split()[-1])
    spawned, url, _ = box(d, env={"SLACK_API_URL": "http://127.0.0.1:%d/api/" % fake_port, "SLACK_BOT_TOKEN": "xoxb-x",
                                  "SLACK_SIGNING_SECRET": SECRET})
    port = free_port()
    bolt = Spawned([sys.executable, "-c", BOLT_APP, str(port)], env=dict(os.environ, SECRET=SECRET))
    time.sleep(2)
    try:
        box_url, bolt_url = url + "/slack/interactivity", "http://127.0.0.1:%d/slack/interactivity" % port
        box_lat, box_fail = paced_latencies(box_url)
        bolt_lat, bolt_fail = paced_latencies(bolt_url)
        box_rps, box_p50, box_p99, box_non2xx = wrk(box_url)
        bolt_rps, bolt_p50, bolt_p99, bolt_non2xx = wrk(bolt_url)
    finally:
        spawned.stop()
        bolt.stop()
        fake.stop()
        shutil.rmtree(d)
    return ("## Signed Slack interaction → HTTP 200\n\nThe same signed `block_actions` payload: verify the signature, parse, "
            "acknowledge (the work is queued after the answer). First at a steady 1,000 requests/s for 5 s (latency of each), "
            "then as fast as `wrk -t2 -c16` goes for 10 s. Beside a minimal `slack_bolt` AsyncApp (aiohttp) doing the same "
            "verify + parse + ack, in the same run.\n\n"
            "| at 1,000 req/s | p50 | p99 | failed |\n|---|---|---|---|\n"
            "| box | %.2f ms | %.2f ms | %d |\n| slack_bolt | %.2f ms | %.2f ms | %d |\n\n"
            "| saturated (wrk) | req/s | p50 | p99 | non-2xx |\n|---|---|---|---|---|\n"
            "| box | %.0f | %s | %s | %d |\n| slack_bolt | %.0f | %s | %s | %d |\n\n"
            "Throughput ratio box / Bolt: **%.1f×** (goal ≥ 10×); box p99 at 1,000 req/s goal ≤ 5 ms.\n"
            % (percentile(box_lat, 50), percentile(box_lat, 99), box_fail, percentile(bolt_lat, 50), percentile(bolt_lat, 99),
               bolt_fail, box_rps, box_p50, box_p99, box_non2xx, bolt_rps, bolt_p50, bolt_p99, bolt_non2xx, box_rps / bolt_rps))


# --- dispatch ---------------------------------------------------------------------------------

def memory_kib(pid):
    """Resident memory, and the part of it that is the process's own data (heap, stacks) rather
    than mapped code."""
    with open("/proc/%d/smaps_rollup" % pid) as f:
        text = f.read()
    field = lambda name: int(re.search(name + r":\s+(\d+)", text).group(1))  # noqa: E731
    return field("Rss"), field("Anonymous")


def foundation_floor_kib():
    """RSS of the smallest Swift program that imports Foundation, built here: the floor for any
    Swift process on Linux that uses Foundation."""
    work = tempfile.mkdtemp()
    try:
        source = os.path.join(work, "hello.swift")
        with open(source, "w") as f:
            f.write("import Foundation\nprint(Date())\nsleep(30)\n")
        subprocess.run(["swiftc", "-O", source, "-o", os.path.join(work, "hello")], check=True, capture_output=True)
        hello = subprocess.Popen([os.path.join(work, "hello")], stdout=subprocess.DEVNULL)
        time.sleep(1.5)
        rss, _ = memory_kib(hello.pid)
        hello.kill()
        hello.wait()
        return rss
    except (OSError, subprocess.CalledProcessError):
        return None
    finally:
        shutil.rmtree(work, ignore_errors=True)


def ssh_localhost_ms(n=20):
    """`ssh localhost true` with a throwaway sshd and key, or None if that cannot be arranged."""
    sshd = shutil.which("sshd") or "/usr/sbin/sshd"
    if not os.path.exists(sshd):
        return None
    work = tempfile.mkdtemp()
    try:
        key = os.path.join(work, "id")
        host_key = os.path.join(work, "host")
        subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", key], check=True)
        subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", host_key], check=True)
        auth = os.path.join(work, "authorized_keys")
        shutil.copy(key + ".pub", auth)
        os.chmod(auth, 0o600)
        port = free_port()
        os.makedirs("/run/sshd", exist_ok=True)
        daemon = subprocess.Popen([sshd, "-D", "-e", "-p", str(port), "-h", host_key, "-o", "AuthorizedKeysFile=" + auth,
                                   "-o", "StrictModes=no", "-o", "PidFile=none"], stderr=subprocess.DEVNULL)
        time.sleep(1)
        argv = ["ssh", "-q", "-i", key, "-p", str(port), "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null",
                "-o", "BatchMode=yes", "127.0.0.1", "true"]
        if subprocess.run(argv).returncode != 0:
            daemon.kill()
            return None
        times = []
        for _ in range(n):
            started = time.perf_counter()
            subprocess.run(argv, check=True)
            times.append((time.perf_counter() - started) * 1000)
        daemon.kill()
        return percentile(times, 50), percentile(times, 99)
    except Exception:
        return None
    finally:
        shutil.rmtree(work, ignore_errors=True)


def exec_start_ms(n=100):
    """From posix_spawn of `/bin/date +%s.%N` to the time it prints: the program's own start-up
    (exec, the dynamic loader), which no dispatcher can avoid."""
    times = []
    for _ in range(n):
        r, w = os.pipe()
        started = time.time()
        pid = os.posix_spawn("/bin/date", ["/bin/date", "+%s.%N"], os.environ, file_actions=[(os.POSIX_SPAWN_DUP2, w, 1)])
        os.close(w)
        printed = os.read(r, 100)
        os.waitpid(pid, 0)
        os.close(r)
        times.append((float(printed) - started) * 1000)
        time.sleep(0.01)
    return times


def bench_dispatch(n=300):
    d = config_dir({"commands.d/t.yaml": "name: t\nsummary: Start time\nrun: [/bin/date, \"+%s.%N\"]\n", "policies.d/p.yaml": POLICY})
    spawned, url, grpc = box(d, "--no-local-agent")
    state = tempfile.mkdtemp()
    agent = Spawned([os.path.join(BIN, "mrmeeseeks"), "--box", grpc, "--labels", "env=bench", "--id", "bench", "--state", state,
                     "--slots", "4", "--log-level", "warning"], env=dict(os.environ, MEESEEKS_AGENT_TOKEN="bench-agent"))
    try:
        deadline = time.time() + 20
        while time.time() < deadline and not api(url, "GET", "/api/v1/agents")[1]["agents"]:
            time.sleep(0.05)
        time.sleep(3)
        idle_rss, idle_private = memory_kib(agent.proc.pid)
        to_start, to_stored = [], []
        client = KeepAlive(url)
        for _ in range(n):
            status, job = client.call("POST", "/api/v1/jobs", {"command": "t", "positional": [], "arguments": {}})
            # Long polls, so the client does not compete with the box for the two cores.
            while True:
                client.conn.request("GET", "/api/v1/jobs/%d/output?wait=10" % job["id"], headers=client.headers)
                response = client.conn.getresponse()
                out = response.read().decode()
                if out or response.getheader("X-Meeseeks-Job-Status") not in ("queued", "running"):
                    break
            while True:
                _, detail = client.call("GET", "/api/v1/jobs/%d" % job["id"])
                if detail["job"]["status"] == "succeeded":
                    break
                time.sleep(0.002)
            created = detail["job"]["createdAt"]
            to_start.append((float(out.strip()) - created) * 1000)
            to_stored.append((detail["job"]["finishedAt"] - created) * 1000)
    finally:
        agent.stop()
        spawned.stop()
        shutil.rmtree(d)
        shutil.rmtree(state, ignore_errors=True)
    ssh = ssh_localhost_ms()
    floor = foundation_floor_kib()
    exec_times = exec_start_ms()
    exec_median = percentile(exec_times, 50)
    overhead = [t - exec_median for t in to_start]
    ssh_row = "| `ssh localhost true` (same machine) | %.2f ms | %.2f ms |\n" % ssh if ssh else "| `ssh localhost true` | could not start sshd | |\n"
    return ("## Dispatch latency over gRPC (loopback)\n\n%d jobs one after another to one `mrmeeseeks`: from the job being stored "
            "(accepted) to the program starting on the agent (the job prints its own start time), and to the result being "
            "stored on the box.\n\n| | p50 | p99 |\n|---|---|---|\n| accepted → process started | %.2f ms | %.2f ms |\n"
            "| accepted → result stored | %.2f ms | %.2f ms |\n"
            "| the program's own start (posix_spawn → `date` prints, no dispatcher) | %.2f ms | %.2f ms |\n"
            "| **dispatch overhead** (accepted → started, less the median own start) | %.2f ms | %.2f ms |\n%s\nAgent idle RSS: **%.1f MiB** (goal ≤ 15 MiB), of which "
            "%.1f MiB is its own data (heap, stacks); the rest is mapped code: the Swift runtime, Foundation, the binary. "
            "A Swift hello world importing Foundation: %s. p99 dispatch overhead goal ≤ 5 ms.\n"
            % (n, percentile(to_start, 50), percentile(to_start, 99), percentile(to_stored, 50), percentile(to_stored, 99),
               exec_median, percentile(exec_times, 99), percentile(overhead, 50), percentile(overhead, 99), ssh_row,
               idle_rss / 1024, idle_private / 1024, "%.1f MiB RSS" % (floor / 1024) if floor else "could not be built"))


# --- reload -----------------------------------------------------------------------------------

def bench_reload(reloads=10):
    files = {"policies.d/p.yaml": POLICY}
    for i in range(1000):
        files["commands.d/c%04d.yaml" % i] = ("name: c%04d\nsummary: Command %d\nrun: [/bin/echo, \"{{x}}\"]\n"
                                             "args: [{name: x, choices: [a, b]}]\ntarget: {selector: \"env in (a, b)\"}\n" % (i, i))
    d = config_dir(files)
    fake = Spawned([sys.executable, os.path.join(REPO, "Tests", "slack", "fake_slack.py"), "--port", "0"])
    fake_port = int(fake.wait_line("fake slack listening on").split()[-1])
    spawned, url, _ = box(d, "--log-level", "info", env={"SLACK_API_URL": "http://127.0.0.1:%d/api/" % fake_port,
                                                        "SLACK_BOT_TOKEN": "xoxb-x", "SLACK_SIGNING_SECRET": SECRET})
    stop = threading.Event()
    results = {"ok": 0, "failed": 0}

    def stream():
        import http.client
        body, ts, sig = signed_interaction()
        headers = {"Content-Type": "application/x-www-form-urlencoded", "X-Slack-Request-Timestamp": ts, "X-Slack-Signature": sig}
        parsed = urllib.parse.urlparse(url)
        conn = http.client.HTTPConnection(parsed.hostname, parsed.port, timeout=5)
        while not stop.is_set():
            try:
                conn.request("POST", "/slack/interactivity", body=body, headers=headers)
                r = conn.getresponse()
                r.read()
                results["ok" if r.status == 200 else "failed"] += 1
            except Exception:
                results["failed"] += 1
                conn = http.client.HTTPConnection(parsed.hostname, parsed.port, timeout=5)
            time.sleep(0.002)

    streamers = [threading.Thread(target=stream) for _ in range(2)]
    for t in streamers:
        t.start()
    latencies = []
    try:
        for i in range(reloads):
            with open(os.path.join(d, "commands.d", "c0000.yaml"), "a") as f:
                f.write("# touch %d\n" % i)
            before = "".join(spawned.err).count("configuration reloaded")
            started = time.perf_counter()
            spawned.proc.send_signal(signal.SIGHUP)
            while "".join(spawned.err).count("configuration reloaded") <= before:
                time.sleep(0.002)
            latencies.append((time.perf_counter() - started) * 1000)
            time.sleep(0.3)
    finally:
        stop.set()
        for t in streamers:
            t.join()
        spawned.stop()
        fake.stop()
        shutil.rmtree(d)
    return ("## Reload under load\n\nTen SIGHUP reloads of a 1,000-command configuration (each file changed first, so every "
            "reload reads, parses and lints all 1,001 files) while two clients send signed Slack interactions continuously.\n\n"
            "| reload p50 | reload max | Slack requests | failed |\n|---|---|---|---|\n| %.0f ms | %.0f ms | %d | %d |\n"
            % (percentile(latencies, 50), max(latencies), results["ok"] + results["failed"], results["failed"]))


BENCHES = {"lint": bench_lint, "jobs": bench_jobs, "slack": bench_slack, "dispatch": bench_dispatch, "reload": bench_reload}

if __name__ == "__main__":
    chosen = sys.argv[1:] or list(BENCHES)
    cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), platform.processor())
    print("# Benchmark run %s\n\nMachine: %s, %d cores, %s; release build.\n" % (
        time.strftime("%Y-%m-%d"), cpu, os.cpu_count(), platform.platform()))
    for name in chosen:
        print(BENCHES[name]())
        sys.stdout.flush()
