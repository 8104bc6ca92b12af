"""Per-agent credentials (`meeseeks agent enroll|list|revoke`): an enrolled agent dials in with its
own token and may claim only its id, its labels and its commands; the shared token does not open
an enrolled id; revoking disconnects a live agent at once and its running job is lost."""
import json
import os
import subprocess
import tempfile
import time
import unittest

from test_interop import BIN, Spawned, config_dir, API_TOKEN  # noqa: F401
from harness import http

SHARED = "shared-agent-token"


def run(*argv, env=None):
    return subprocess.run([os.path.join(BIN, argv[0]), *argv[1:]], capture_output=True, text=True, timeout=60, env=env)


class AgentCredentials(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.config = config_dir({
            "commands.d/nap.yaml": "name: nap\nsummary: Sleep\nrun: [/bin/sleep, \"30\"]\n",
            "commands.d/hello.yaml": "name: hello\nsummary: Hello\nrun: [/bin/echo, hello]\n",
            "policies.d/p.yaml": "roles:\n  sre: {members: [U_SRE]}\ngrants:\n  - {roles: [sre], commands: [\"*\"]}\n",
        })
        cls.db = os.path.join(cls.config, "meeseeks.db")
        env = dict(os.environ, MEESEEKS_AGENT_TOKEN=SHARED, MEESEEKS_API_TOKEN=API_TOKEN)
        cls.box = Spawned([os.path.join(BIN, "meeseeks"), "serve", "--config", cls.config, "--http", "127.0.0.1:0",
                           "--grpc", "127.0.0.1:0", "--no-local-agent"], env=env)
        cls.http = "http://" + cls.box.wait_line("http listening on").split()[-1]
        cls.grpc = cls.box.wait_line("grpc listening on").split()[-1]
        cls.spawned = []

    @classmethod
    def tearDownClass(cls):
        for agent in cls.spawned:
            agent.stop()
        cls.box.stop()

    def admin(self, *args):
        return run("meeseeks", "agent", *args, "--config", self.config)

    def agent(self, agent_id, token, labels, *extra):
        spawned = Spawned([os.path.join(BIN, "mrmeeseeks"), "--box", self.grpc, "--id", agent_id, "--labels", labels,
                           "--state", tempfile.mkdtemp(), *extra], env=dict(os.environ, MEESEEKS_AGENT_TOKEN=token))
        self.spawned.append(spawned)
        return spawned

    def api(self, method, path, body=None):
        status, text, _ = http(method, self.http + "/api/v1/" + path, body,
                               {"Authorization": "Bearer " + API_TOKEN, "X-Meeseeks-As": "U_SRE"})
        return status, json.loads(text) if text else None

    def wait_for(self, predicate, what, timeout=20):
        deadline = time.time() + timeout
        while time.time() < deadline:
            value = predicate()
            if value:
                return value
            time.sleep(0.1)
        self.fail("timed out waiting for " + what)

    def test_enrolled_identities_are_bound_and_revocable(self):
        enrolled = self.admin("enroll", "web1", "--labels", "env=prd,role=web", "--commands", "nap,hello")
        self.assertEqual(enrolled.returncode, 0, enrolled.stderr)
        token = enrolled.stdout.strip()
        self.assertTrue(token.startswith("mska_"), token)
        # Only the hash is kept.
        with open(self.db, "rb") as f:
            self.assertNotIn(token.encode(), f.read())
        self.assertNotEqual(self.admin("enroll", "web1").returncode, 0, "a second credential for one id")
        self.assertNotEqual(self.admin("enroll", "bad id!").returncode, 0)

        # The shared token does not open an enrolled id; the token does not open another id.
        shared = self.agent("web1", SHARED, "env=prd")
        shared.wait_line("is enrolled and this is not its token", stream="err")
        other = self.agent("web2", token, "env=prd")
        other.wait_line("missing or wrong agent token", stream="err")
        # Labels and commands stay within the binding.
        wide = self.agent("web1", token, "env=stg", "--commands", "nap")
        wide.wait_line("may not claim the label env=stg", stream="err")
        greedy = self.agent("web1", token, "env=prd", "--commands", "*")
        greedy.wait_line("may not take the commands '*'", stream="err")
        for refused in (shared, other, wide, greedy):
            refused.stop()

        # Within its binding it connects and works.
        good = self.agent("web1", token, "env=prd,role=web", "--commands", "nap,hello")
        good.wait_line("connected to the box", stream="err")
        status, job = self.api("POST", "jobs", {"command": "nap"})
        self.assertEqual(status, 202, job)
        self.wait_for(lambda: self.api("GET", "jobs/%d" % job["id"])[1]["job"]["status"] == "running", "the nap to run")

        listed = self.admin("list")
        self.assertIn("web1\tenv=prd,role=web\tnap,hello", listed.stdout)
        self.assertNotIn(token, listed.stdout)

        # Revoked: disconnected at once, its running job lost, and it cannot come back.
        started = time.time()
        self.assertEqual(self.admin("revoke", "web1").returncode, 0)
        detail = self.wait_for(lambda: (lambda d: d if d["job"]["status"] == "lost" else None)(self.api("GET", "jobs/%d" % job["id"])[1]),
                               "the job to be lost", timeout=10)
        self.assertLess(time.time() - started, 5)
        self.assertIn("revoked", detail["job"].get("reason", ""))
        # Reconnecting with the revoked token: refused (not enrolled any more, and not the shared token).
        good.wait_line("missing or wrong agent token", stream="err", timeout=30)
        self.assertIn("revoked", self.admin("list").stdout)
        self.assertNotEqual(self.admin("revoke", "web1").returncode, 0)
        audit = run("meeseeks", "audit", "--json", env=dict(os.environ, MEESEEKS_URL=self.http, MEESEEKS_API_TOKEN=API_TOKEN))
        self.assertIn("agent.enrolled", audit.stdout)
        self.assertIn("agent.revoked", audit.stdout)


if __name__ == "__main__":
    unittest.main()
