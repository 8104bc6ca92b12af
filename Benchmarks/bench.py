#!/usr/bin/env python3
"""Meeseeks Box benchmarks. Run them all with `scripts/bench`; each prints a Markdown section.

    lint      load + lint of 10,000 generated command files
    jobs      end-to-end jobs per second (queued → run → result stored) beside a raw spawn loop
    slack     signed interaction → HTTP 200 latency and throughput, beside a minimal slack_bolt app
    dispatch  job accepted → process started on a remote agent, and → result stored; agent idle RSS
    reload    ten reloads of a 1,000-command configuration under a steady stream of Slack requests
    cluster   jobs/s and Slack ack latency on PostgreSQL beside SQLite; failover times (kill -9, SIGTERM)
    fleet     1, 1,000 and 10,000 simulated agents: memory, idle CPU, routing, jobs/s, broadcast
"""
import os
import platform
import shutil
import subprocess
import sys
import statistics
import time

from bench_cluster import bench_cluster
from bench_dispatch import bench_dispatch
from bench_fleet import bench_fleet
from bench_slack import bench_reload, bench_slack
from common import BIN, POLICY, box, config_dir, jobs_per_second


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
        box_rate, submitted = jobs_per_second(url, n, workers)
    finally:
        spawned.stop()
        shutil.rmtree(d)
    raw = raw_spawn_rate(n)
    return ("## End-to-end jobs per second\n\n%d jobs of `/bin/true` submitted over the HTTP API by %d clients, each stored, "
            "queued, run by the embedded agent (2 slots) and its result stored, measured until the last one is recorded; "
            "beside a raw `posix_spawn` + `waitpid` loop of `/bin/true` in the same run.\n\n"
            "| box (jobs/s) | raw spawn loop (/s) | ratio | goal |\n|---|---|---|---|\n| %.0f | %.0f | %.2f | ≥ 0.5 |\n"
            % (submitted, workers, box_rate, raw, box_rate / raw))


BENCHES = {"lint": bench_lint, "jobs": bench_jobs, "slack": bench_slack, "dispatch": bench_dispatch, "reload": bench_reload, "cluster": bench_cluster,
           "fleet": bench_fleet}

if __name__ == "__main__":
    chosen = sys.argv[1:] or list(BENCHES)
    cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), platform.processor())
    print("# Benchmark run %s\n\nMachine: %s, %d cores, %s; release build.\n" % (
        time.strftime("%Y-%m-%d"), cpu, os.cpu_count(), platform.platform()))
    for name in chosen:
        print(BENCHES[name]())
        sys.stdout.flush()
