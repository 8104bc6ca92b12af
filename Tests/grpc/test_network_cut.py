"""The fault matrix's network round (issue 13): the network between the box and an agent cut
like a pulled cable (no FIN, no reset: a black-hole proxy) while a job runs there, then
restored. The agent reconnects, and the result it kept while it could not reach the box
arrives, once; the job is not lost (the cut is shorter than agents.lost_after)."""
import json
import os
import socket
import tempfile
import time
import unittest

from test_interop import API_TOKEN, BIN, Spawned, config_dir  # noqa: F401
from harness import Proxy, http

TOKEN = "network-cut-token"
POLICY = """roles:
  sre: {members: [U_SRE]}
grants:
  - {roles: [sre], commands: ["*"]}
"""
SLOW = """name: slow
summary: Four seconds, then a word
run: [/bin/sh, -c, 'echo ran >> "$0"; sleep 4; echo finished', "%s"]
"""


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class NetworkCut(unittest.TestCase):
    def setUp(self):
        self.ledger = os.path.join(tempfile.mkdtemp(prefix="meeseeks-ledger-"), "ran")
        self.config = config_dir({"commands.d/slow.yaml": SLOW % self.ledger, "policies.d/p.yaml": POLICY,
                                  "meeseeks.yaml": "agents: {lost_after: 40s}\n"})
        grpc_port = free_port()
        env = dict(os.environ, MEESEEKS_AGENT_TOKEN=TOKEN, MEESEEKS_API_TOKEN=API_TOKEN)
        self.box = Spawned([os.path.join(BIN, "meeseeks"), "serve", "--config", self.config, "--http", "127.0.0.1:0",
                            "--grpc", "127.0.0.1:%d" % grpc_port, "--no-local-agent"], env=env)
        self.url = "http://" + self.box.wait_line("http listening on").split()[-1]
        self.proxy = Proxy(grpc_port)
        self.agent = Spawned([os.path.join(BIN, "mrmeeseeks"), "--box", "127.0.0.1:%d" % self.proxy.port, "--id", "far",
                              "--labels", "site=far", "--state", tempfile.mkdtemp(prefix="meeseeks-agent-")],
                             env=dict(os.environ, MEESEEKS_AGENT_TOKEN=TOKEN))
        self.agent.wait_line("connected to the box", stream="err")

    def tearDown(self):
        self.agent.stop()
        self.box.stop()
        self.proxy.close()

    def api(self, method, path, body=None):
        status, text, _ = http(method, self.url + path, body,
                               {"Authorization": "Bearer " + API_TOKEN, "X-Meeseeks-As": "U_SRE", "Content-Type": "application/json"})
        self.assertLess(status, 300, text)
        return json.loads(text)

    def test_a_result_kept_through_a_cut_arrives_once(self):
        job = self.api("POST", "/api/v1/jobs", {"command": "slow"})
        # Its start confirmed (the box heard it), so it runs on the far side when the cable goes.
        deadline = time.time() + 10
        while not self.api("GET", "/api/v1/jobs/%d" % job["id"])["job"].get("confirmed") and time.time() < deadline:
            time.sleep(0.1)
        self.proxy.cut()  # the job finishes on the far side while nothing gets through
        time.sleep(8)
        self.assertEqual(self.api("GET", "/api/v1/jobs/%d" % job["id"])["job"]["status"], "running")
        self.proxy.restore()
        deadline = time.time() + 60
        while time.time() < deadline:
            done = self.api("GET", "/api/v1/jobs/%d" % job["id"])["job"]
            if done["status"] != "running":
                break
            time.sleep(0.2)
        self.assertEqual((done["status"], done["exitCode"], done["attempt"]), ("succeeded", 0, 1))
        status, output, _ = http("GET", self.url + "/api/v1/jobs/%d/output" % job["id"], None,
                                 {"Authorization": "Bearer " + API_TOKEN, "X-Meeseeks-As": "U_SRE"})
        self.assertEqual((status, output), (200, "finished\n"), "the output printed during the cut arrives with the result")
        with open(self.ledger) as f:
            self.assertEqual(f.read(), "ran\n", "the program ran once")
        # Ended once: one "job finished" in the box's log, and the agent connected again.
        time.sleep(1)
        self.assertEqual(sum('msg="job finished"' in line for line in self.box.err), 1)
        self.assertGreaterEqual(sum("connected to the box" in line for line in self.agent.err), 2)


if __name__ == "__main__":
    unittest.main()
