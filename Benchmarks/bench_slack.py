"""Signed Slack interactions beside slack_bolt, and reloads under a stream of them."""
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse

from slack_sdk.signature import SignatureVerifier

from common import REPO, SECRET, POLICY, Spawned, box, config_dir, free_port, percentile


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
