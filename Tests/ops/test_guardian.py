"""Each job's processes are led by meeseeks-guardian, found beside the binary that starts it; a box
installed without it falls back to a fork of itself. Either way the job dies with the box."""
import os
import shutil
import sys
import tempfile
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(REPO, "Tests", "slack"))
from harness import API_TOKEN, BIN, Spawned, config_dir, http  # noqa: E402

SLEEP = "name: nap\nsummary: Sleeps\nrun: [/bin/sleep, \"30\"]\n"
POLICY = "roles:\n  sre: {members: [U_SRE]}\ngrants:\n  - {roles: [sre], commands: [\"*\"]}\n"


def children(pid):
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open("/proc/%s/stat" % entry) as f:
                    fields = f.read().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid:
                found.append(int(entry))
    return found


def comm(pid):
    with open("/proc/%d/comm" % pid) as f:
        return f.read().strip()


def gone(pid):
    """Exited: no such process, or a zombie nobody has reaped yet."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().rsplit(")", 1)[1].split()[0] == "Z"
    except OSError:
        return True


class Guardian(unittest.TestCase):
    def setUp(self):
        self.config = config_dir({"commands.d/nap.yaml": SLEEP, "policies.d/p.yaml": POLICY})
        self.work = tempfile.mkdtemp(prefix="meeseeks-guardian-")

    def tearDown(self):
        shutil.rmtree(self.config, ignore_errors=True)
        shutil.rmtree(self.work, ignore_errors=True)

    def job_leader(self, binary):
        """Starts a box from `binary`, runs a 30 s job and returns (the box, the job's group
        leader, the job's program)."""
        box = Spawned([binary, "serve", "--config", self.config, "--db", os.path.join(self.work, "box.db"),
                       "--http", "127.0.0.1:0", "--grpc", "127.0.0.1:0"], env=dict(os.environ, MEESEEKS_API_TOKEN=API_TOKEN))
        self.addCleanup(box.stop)  # also when a step below fails
        url = "http://" + box.wait_line("http listening on").split()[-1]
        status, body, _ = http("POST", url + "/api/v1/jobs", {"command": "nap"},
                               {"Authorization": "Bearer " + API_TOKEN, "X-Meeseeks-As": "U_SRE"})
        self.assertEqual(status, 202, body)
        deadline = time.time() + 10
        while time.time() < deadline:
            leaders = [p for p in children(box.proc.pid) if children(p)]
            if leaders:
                return box, leaders[0], children(leaders[0])[0]
            time.sleep(0.05)
        self.fail("the job did not start")

    def dies_with_the_box(self, box, leader, program):
        self.assertEqual(os.getpgid(program), leader)  # the guardian leads the job's group
        box.proc.kill()
        box.proc.wait()
        deadline = time.time() + 5
        while not (gone(program) and gone(leader)) and time.time() < deadline:
            time.sleep(0.05)
        self.assertTrue(gone(program), "the job outlived its box")
        self.assertTrue(gone(leader), "the guardian outlived its box")

    def test_the_guardian_program_leads_the_job(self):
        box, leader, program = self.job_leader(os.path.join(BIN, "meeseeks"))
        self.assertEqual(comm(leader), "meeseeks-guardi")  # comm keeps 15 characters
        self.assertEqual(comm(program), "sleep")
        self.dies_with_the_box(box, leader, program)

    def test_without_the_guardian_program_a_fork_of_the_box_leads_the_job(self):
        alone = os.path.join(self.work, "meeseeks")
        try:
            os.link(os.path.join(BIN, "meeseeks"), alone)  # /proc/self/exe names the link's folder
        except OSError:
            shutil.copy(os.path.join(BIN, "meeseeks"), alone)
        box, leader, program = self.job_leader(alone)
        self.assertNotEqual(comm(leader), "meeseeks-guardi")
        self.assertEqual(comm(program), "sleep")
        self.dies_with_the_box(box, leader, program)


if __name__ == "__main__":
    unittest.main()
