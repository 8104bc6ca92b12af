"""One box and a fleet of 1, 1,000 and 10,000 simulated agents (`meeseeks-swarm`, the real gRPC
protocol, one connection each): connect time, box memory, idle CPU, a job routed to one agent by
selector, jobs/s end to end, and a broadcast to every agent."""
import os
import random
import re
import shutil
import time

from common import BIN, POLICY, KeepAlive, Spawned, box, config_dir, jobs_per_second, percentile

SWARM = os.path.join(BIN, "meeseeks-swarm")
PER_PROCESS = 2500  # agents per swarm process: several processes spread the generator's own work
TOKEN = "bench-agent"
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid):
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS  # utime + stime


def machine_cpu_seconds():
    """CPU time the whole machine spent busy (every process and the kernel, softirqs included)."""
    with open("/proc/stat") as f:
        fields = [int(x) for x in f.readline().split()[1:]]
    return (sum(fields[:8]) - fields[3] - fields[4]) / CLOCK_TICKS  # all but idle and iowait


def rss_mib(pid):
    with open("/proc/%d/status" % pid) as f:
        return int(re.search(r"VmRSS:\s+(\d+)", f.read()).group(1)) / 1024


def open_files(pid):
    return len(os.listdir("/proc/%d/fd" % pid))


def metrics(client):
    client.conn.request("GET", "/metrics")
    response = client.conn.getresponse()
    return response.read().decode()


def connected(client):
    match = re.search(r"^meeseeks_agents_connected(?:\{[^}]*\})? (\S+)$", metrics(client), re.M)
    return int(float(match.group(1))) if match else 0


def plan_buckets(client):
    """The scheduler's plan-time histogram: cumulative count per upper bound (seconds)."""
    found = re.findall(r'^meeseeks_scheduler_plan_seconds_bucket\{le="([^"]+)"\} (\S+)$', metrics(client), re.M)
    return {float(le): float(count) for le, count in found}


def bucket_percentile(before, after, p):
    """The upper bound of the bucket holding the p-th percentile of what was recorded between
    two readings of a histogram."""
    bounds = sorted(after)
    counts = [after[b] - before.get(b, 0) for b in bounds]
    total = counts[-1]
    if total <= 0:
        return None
    for bound, count in zip(bounds, counts):
        if count >= total * p / 100:
            return bound
    return bounds[-1]


def wait_job(client, job_id, timeout=120):
    """The job's detail once it has ended: long polls on its output (they answer when it ends),
    then its record once."""
    deadline, offset = time.time() + timeout, 0
    while time.time() < deadline:
        client.conn.request("GET", "/api/v1/jobs/%d/output?wait=10&offset=%d" % (job_id, offset), headers=client.headers)
        response = client.conn.getresponse()
        response.read()
        offset = int(response.getheader("X-Meeseeks-Next-Offset"))
        if response.getheader("X-Meeseeks-Job-Status") not in ("queued", "running"):
            _, detail = client.call("GET", "/api/v1/jobs/%d" % job_id)
            return detail
    raise AssertionError("job %d did not end in %d s" % (job_id, timeout))


ROUTED = 300


def measure(n, lost_after=None, routed=ROUTED, jobs=2000):
    files = {"commands.d/t.yaml": "name: t\nsummary: One agent\nrun: [/bin/true]\n",
             "commands.d/all.yaml": "name: all\nsummary: Every agent\nrun: [/bin/true]\n"
                                    "target: {selector: \"swarm = fleet\", mode: all}\n",
             "policies.d/p.yaml": POLICY}
    if lost_after:
        files["meeseeks.yaml"] = "agents: {lost_after: %ds}\n" % lost_after
    d = config_dir(files)
    spawned, url, grpc = box(d, "--no-local-agent", env={"MEESEEKS_AGENT_TOKEN": TOKEN})
    swarms = []
    row = {"n": n, "lost_after": lost_after or 15}
    try:
        env = dict(os.environ, MEESEEKS_AGENT_TOKEN=TOKEN)
        started = time.perf_counter()
        for first in range(0, n, PER_PROCESS):
            swarms.append(Spawned([SWARM, "--box", grpc, "--prefix", "fleet", "--first", str(first),
                                   "--count", str(min(PER_PROCESS, n - first))], env=env))
        client = KeepAlive(url)
        deadline = time.time() + 300
        while connected(client) < n:
            assert time.time() < deadline, "only %d of %d agents connected in 300 s" % (connected(client), n)
            time.sleep(0.2)
        row["connect"] = time.perf_counter() - started
        time.sleep(10)  # past the first round of heartbeats
        pid = spawned.proc.pid
        swarm_pids = [swarm.proc.pid for swarm in swarms]
        before, window = cpu_seconds(pid), 30
        machine_before, swarm_before = machine_cpu_seconds(), sum(cpu_seconds(p) for p in swarm_pids)
        time.sleep(window)
        row["idle_cpu"] = (cpu_seconds(pid) - before) / window * 100
        # Beside it: the simulated agents, and the rest of the machine (the kernel's TCP work).
        row["swarm_cpu"] = (sum(cpu_seconds(p) for p in swarm_pids) - swarm_before) / window * 100
        row["machine_cpu"] = (machine_cpu_seconds() - machine_before) / window * 100
        row["rss"] = rss_mib(pid)
        row["fds"] = open_files(pid)

        routes = []
        plans_before = plan_buckets(client)
        rng = random.Random(20261207)
        for _ in range(routed):
            target = rng.randrange(n)
            status, job = client.call("POST", "/api/v1/jobs", {"command": "t", "selector": "index = %d" % target})
            assert status == 202, job
            detail = wait_job(client, job["id"])
            assert detail["job"]["status"] == "succeeded", detail
            assert detail["job"].get("agent") in (None, "fleet-%d" % target), detail
            routes.append((detail["job"]["finishedAt"] - detail["job"]["createdAt"]) * 1000)
        row["route_p50"], row["route_p99"] = percentile(routes, 50), percentile(routes, 99)
        plans_after = plan_buckets(client)
        row["plan_p50"] = bucket_percentile(plans_before, plans_after, 50)
        row["plan_p99"] = bucket_percentile(plans_before, plans_after, 99)

        row["jobs_per_s"], _ = jobs_per_second(url, jobs)

        status, job = client.call("POST", "/api/v1/jobs", {"command": "all"})
        assert status == 202, job
        detail = wait_job(client, job["id"], timeout=600)
        assert detail["job"]["status"] == "succeeded", detail["job"]
        assert len(detail["children"]) == n and all(c["status"] == "succeeded" for c in detail["children"]), \
            "%d children" % len(detail["children"])
        row["broadcast"] = detail["job"]["finishedAt"] - detail["job"]["createdAt"]
        row["rss_end"] = rss_mib(pid)
    finally:
        for swarm in swarms:
            swarm.stop()
        spawned.stop()
        shutil.rmtree(d)
    return row


def bound(seconds):
    if seconds is None:
        return "n/a"
    if seconds == float("inf"):
        return "> 100 ms"
    return "≤ %g µs" % (seconds * 1e6) if seconds < 1e-3 else "≤ %g ms" % (seconds * 1e3)


def bench_fleet(runs=((1, None), (1000, None), (10000, None))):
    rows = [measure(n, lost_after) for n, lost_after in runs]
    base = rows[0]["jobs_per_s"]
    table = "".join(
        "| %s (%d s) | %.1f s | %.0f MiB (%.0f MiB after) | %d | %.1f %% (%.1f %%, %.1f %%) | %s / %s | %.2f / %.2f ms | %.0f (%.0f %%) "
        "| %.2f s |\n"
        % ("{:,}".format(r["n"]), r["lost_after"], r["connect"], r["rss"], r["rss_end"], r["fds"], r["idle_cpu"], r["swarm_cpu"],
           r["machine_cpu"], bound(r["plan_p50"]),
           bound(r["plan_p99"]), r["route_p50"], r["route_p99"], r["jobs_per_s"], r["jobs_per_s"] / base * 100, r["broadcast"])
        for r in rows)
    return ("## 1, 1,000 and 10,000 agents on one box\n\n"
            "`meeseeks-swarm` processes (%d agents each, one HTTP/2 connection and stream per agent, heartbeats at the "
            "interval the box asks for, jobs answered at once instead of run) against a box without its embedded agent, "
            "on SQLite. Idle CPU over 30 s with every agent connected; a job aimed at one random agent by selector "
            "(`index = K`), %d one after another: the scheduler's routing pass (the box's "
            "`meeseeks_scheduler_plan_seconds` histogram, so a bucket bound) and accepted → result stored (box "
            "timestamps: two database writes and a gRPC round trip included); jobs/s with 4 API clients, round robin over "
            "the fleet; a `mode: all` job to every agent until its last result is stored; RSS after connecting, and after "
            "all of that. Agents heartbeat at the pace the box asks for: every third of `agents.lost_after` (15 s by "
            "default), spaced out so that the whole fleet sends at most 40 a second (10,000 agents: every 250 s); the "
            "kernel's TCP keepalive probes every idle connection every 5 s. Idle CPU is the box's, then the swarm's and "
            "the whole machine's (every process and the kernel) over the same 30 s.\n\n"
            "| agents (`agents.lost_after`) | all connected | box RSS | box open files | idle CPU, one core: box (swarm, machine) "
            "| routing p50 / p99 "
            "| one job by selector, end to end p50 / p99 | jobs/s (vs 1 agent) | broadcast to all |\n"
            "|---|---|---|---|---|---|---|---|---|\n%s"
            "| **goal** (10,000) | | < 1 GiB | | < 2 %% | p99 < 1 ms | | ≥ 80 %% | |\n"
            % (PER_PROCESS, ROUTED, table))
