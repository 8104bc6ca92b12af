"""A throwaway PostgreSQL, boxes that share it, agents that follow the leader, and a TCP proxy
that can cut one box off from the database. Real processes only; Slack is the tests' fake."""
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "slack"))

from harness import API_TOKEN, BIN, REPO, SECRET, Proxy, Spawned, http  # noqa: E402,F401

PSQL = os.path.join(os.environ.get("POSTGRES_BIN", "/usr/lib/postgresql/15/bin"), "psql")
AGENT_TOKEN = "cluster-agent-token"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Postgres:
    """scripts/postgres-test-cluster, stopped when this process ends even if it crashes."""

    def __init__(self):
        result = subprocess.run([os.path.join(REPO, "scripts", "postgres-test-cluster"), "start", "--owner-pid", str(os.getpid())],
                                capture_output=True, text=True, timeout=120)
        if result.returncode != 0:
            raise RuntimeError("cannot start PostgreSQL: " + result.stderr)
        self.admin_url, self.folder = result.stdout.split("\n")[:2]
        self.count = 0

    def database(self):
        """A new, empty database; its URL."""
        self.count += 1
        name = "cluster_%d_%d" % (os.getpid(), self.count)
        self.sql("CREATE DATABASE %s" % name)
        return self.admin_url.rsplit("/", 1)[0] + "/" + name

    def sql(self, statement, url=None):
        result = subprocess.run([PSQL, url or self.admin_url, "-AtX", "-v", "ON_ERROR_STOP=1", "-c", statement],
                                capture_output=True, text=True, timeout=60)
        if result.returncode != 0:
            raise RuntimeError("psql: " + result.stderr)
        return [line.split("|") for line in result.stdout.splitlines() if line]

    def stop(self):
        subprocess.run([os.path.join(REPO, "scripts", "postgres-test-cluster"), "stop", self.folder], timeout=120)


class ClusterBox:
    """One `meeseeks serve` of the cluster, on fixed ports so it can be restarted in place."""

    def __init__(self, name, config, db_url, fake_url, lease=3):
        self.name, self.config, self.db_url, self.fake_url, self.lease = name, config, db_url, fake_url, lease
        self.http_port, self.grpc_port = free_port(), free_port()
        self.url = "http://127.0.0.1:%d" % self.http_port
        self.grpc = "127.0.0.1:%d" % self.grpc_port
        self.spawned = None
        self.start()

    def start(self):
        env = dict(os.environ, SLACK_API_URL=self.fake_url + "/api/", SLACK_BOT_TOKEN="xoxb-test", SLACK_SIGNING_SECRET=SECRET,
                   MEESEEKS_API_TOKEN=API_TOKEN, MEESEEKS_AGENT_TOKEN=AGENT_TOKEN)
        env.pop("SLACK_APP_TOKEN", None)
        self.spawned = Spawned([os.path.join(BIN, "meeseeks"), "serve", "--config", self.config, "--db", self.db_url,
                                "--member", self.name, "--http", "127.0.0.1:%d" % self.http_port, "--grpc", self.grpc,
                                "--no-local-agent", "--lease", str(self.lease), "--log-level", os.environ.get("MEESEEKS_CLUSTER_LOG_LEVEL", "info")], env=env)
        self.spawned.wait_line("http listening on")

    def role(self):
        try:
            status, body, _ = http("GET", self.url + "/readyz", timeout=2)
        except OSError:
            return None
        return json.loads(body).get("role") if status == 200 else None

    def kill(self):
        self.spawned.proc.kill()
        self.spawned.proc.wait()

    def stop(self, sig=None):
        import signal
        self.spawned.stop(sig or signal.SIGTERM)

    def api(self, method, path, body=None):
        """As U_SRE, the one member of the tests' policy."""
        return http(method, self.url + "/api/v1/" + path, body, {"Authorization": "Bearer " + API_TOKEN, "X-Meeseeks-As": "U_SRE"},
                    timeout=20)


def agent(name, boxes):
    """mrmeeseeks dialling every box of the list; it follows the leader."""
    return Spawned([os.path.join(BIN, "mrmeeseeks"), "--box", ",".join(b.grpc for b in boxes), "--id", name,
                    "--labels", "agent=" + name, "--state", tempfile.mkdtemp(prefix="meeseeks-agent-")],
                   env=dict(os.environ, MEESEEKS_AGENT_TOKEN=AGENT_TOKEN))


def config_folder(files):
    path = tempfile.mkdtemp(prefix="meeseeks-cluster-")
    for name, text in files.items():
        full = os.path.join(path, name)
        os.makedirs(os.path.dirname(full), exist_ok=True)
        with open(full, "w") as f:
            f.write(text)
    return path


def wait_for(predicate, what, timeout=30, every=0.05):
    deadline = time.time() + timeout
    while time.time() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(every)
    raise AssertionError("timed out waiting for " + what)


def form(payload):
    return urllib.parse.urlencode(payload)
