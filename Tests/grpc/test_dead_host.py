"""An agent whose network vanishes without a word (no FIN, no reset: its host's routes go to a
black hole) is found by the kernel's TCP keepalive that the box sets on every agent connection,
sooner than its silence would be; its running job is lost agents.lost_after after the box last
heard from it. The agent runs in its own network namespace, joined to the box by a veth pair."""
import json
import os
import re
import subprocess
import tempfile
import time
import unittest

from test_interop import API_TOKEN, BIN, Spawned, config_dir  # noqa: F401
from harness import http

TOKEN = "dead-host-token"
POLICY = "roles:\n  sre: {members: [U_SRE]}\ngrants:\n  - {roles: [sre], commands: [\"*\"]}\n"
NAP = "name: nap\nsummary: A long nap\nrun: [/bin/sleep, '120']\ntarget: {selector: \"site = far\"}\n"
LOST_AFTER = 30  # keepalive: idle 10 s, then 3 probes 3 s apart, given up 19 s after the last packet


def ip(*args):
    subprocess.run(["ip", *args], check=True, capture_output=True)


def forget_stale_namespaces():
    """Namespaces of runs that were killed before their clean-up (named after their process)."""
    listing = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True).stdout
    for pid in re.findall(r"^mks(\d+)", listing, re.M):
        if not os.path.exists("/proc/%s" % pid):
            subprocess.run(["ip", "netns", "del", "mks" + pid], capture_output=True)
            subprocess.run(["ip", "link", "del", "mkb" + pid], capture_output=True)


class DeadHost(unittest.TestCase):
    def setUp(self):
        if os.geteuid() != 0:
            self.skipTest("network namespaces need root")
        forget_stale_namespaces()
        n = os.getpid() % 250
        self.ns, box_end, far_end = "mks%d" % os.getpid(), "mkb%d" % os.getpid(), "mka%d" % os.getpid()
        self.box_ip, self.far_ip = "10.213.%d.1" % n, "10.213.%d.2" % n
        try:
            ip("netns", "add", self.ns)
        except (subprocess.CalledProcessError, FileNotFoundError) as e:
            self.skipTest("no network namespaces here: %s" % e)
        self.addCleanup(ip, "netns", "del", self.ns)
        ip("link", "add", box_end, "type", "veth", "peer", "name", far_end)
        self.addCleanup(subprocess.run, ["ip", "link", "del", box_end], capture_output=True)
        ip("link", "set", far_end, "netns", self.ns)
        ip("addr", "add", self.box_ip + "/30", "dev", box_end)
        ip("link", "set", box_end, "up")
        ip("netns", "exec", self.ns, "ip", "addr", "add", self.far_ip + "/30", "dev", far_end)
        ip("netns", "exec", self.ns, "ip", "link", "set", far_end, "up")

        config = config_dir({"commands.d/nap.yaml": NAP, "policies.d/p.yaml": POLICY,
                             "meeseeks.yaml": "agents: {lost_after: %ds}\n" % LOST_AFTER})
        env = dict(os.environ, MEESEEKS_AGENT_TOKEN=TOKEN, MEESEEKS_API_TOKEN=API_TOKEN)
        self.box = Spawned([os.path.join(BIN, "meeseeks"), "serve", "--config", config, "--http", "127.0.0.1:0",
                            "--grpc", self.box_ip + ":0", "--no-local-agent"], env=env)
        self.addCleanup(self.box.stop)
        self.url = "http://" + self.box.wait_line("http listening on").split()[-1]
        grpc = self.box.wait_line("grpc listening on").split()[-1]
        self.agent = Spawned(["ip", "netns", "exec", self.ns, os.path.join(BIN, "mrmeeseeks"), "--box", grpc, "--id", "far",
                              "--labels", "site=far", "--state", tempfile.mkdtemp(prefix="meeseeks-agent-")],
                             env=dict(os.environ, MEESEEKS_AGENT_TOKEN=TOKEN))
        self.addCleanup(self.agent.stop)
        self.agent.wait_line("connected to the box", stream="err")

    def api(self, method, path, body=None):
        status, text, _ = http(method, self.url + path, body,
                               {"Authorization": "Bearer " + API_TOKEN, "X-Meeseeks-As": "U_SRE", "Content-Type": "application/json"})
        self.assertLess(status, 300, text)
        return json.loads(text)

    def far_connected(self):
        return any(a["id"] == "far" and a["connected"] for a in self.api("GET", "/api/v1/agents")["agents"])

    def test_a_host_gone_without_a_word_is_found_by_keepalive_and_its_job_lost(self):
        job = self.api("POST", "/api/v1/jobs", {"command": "nap"})
        deadline = time.time() + 10
        while not self.api("GET", "/api/v1/jobs/%d" % job["id"])["job"].get("confirmed"):
            self.assertLess(time.time(), deadline, "the job did not start on the far agent")
            time.sleep(0.1)
        # The far host's replies now go nowhere: the box hears nothing, and nothing says goodbye.
        ip("netns", "exec", self.ns, "ip", "route", "add", "blackhole", self.box_ip + "/32")
        cut = time.time()
        while self.far_connected():
            # The last packet came just before the cut (the job's start): keepalive gives up 19 s
            # after it; silence would end the session 30 s after the last message. The log says which.
            self.assertLess(time.time() - cut, 22, "the dead connection was not found by keepalive")
            time.sleep(0.2)
        deadline = time.time() + 5
        while not [line for line in self.box.err if "agent stream ended" in line and "far" in line]:
            self.assertLess(time.time(), deadline, "the box did not log the end of the far agent's stream")
            time.sleep(0.1)
        ended = [line for line in self.box.err if "agent stream ended" in line and "far" in line]
        self.assertNotIn("no message for", ended[-1], "ended by silence, not by the transport")
        # The job is lost lost_after after the box last heard from the agent, not sooner.
        while True:
            status = self.api("GET", "/api/v1/jobs/%d" % job["id"])["job"]["status"]
            if status != "running":
                break
            self.assertLess(time.time() - cut, LOST_AFTER + 5, "the job was never marked lost")
            time.sleep(0.5)
        self.assertEqual(status, "lost")
        # Its last message was the job's start, just before the cut.
        self.assertGreater(time.time() - cut, LOST_AFTER - 1.5)


if __name__ == "__main__":
    unittest.main()
