"""Dispatch latency to a remote agent over gRPC, and the agent's memory."""
import os
import re
import shutil
import subprocess
import tempfile
import time

from common import BIN, POLICY, KeepAlive, Spawned, api, box, config_dir, free_port, percentile


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
