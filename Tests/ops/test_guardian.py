"""Each job's processes are led by meeseeks-guardian, found beside the binary that starts it: one
`meeseeks-guardian --serve` per box clones every job's guardian as the box's own child. A helper
that cannot serve gets started once per job; a box installed without it falls back to a fork of
itself. Either way the job dies with the box."""
import json
import os
import shutil
import signal
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


def cmdline(pid):
    with open("/proc/%d/cmdline" % pid, "rb") as f:
        return [part.decode() for part in f.read().split(b"\0") if part]


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
        box.url = "http://" + box.wait_line("http listening on").split()[-1]
        leader, program = self.start_nap(box)
        return box, leader, program

    def start_nap(self, box):
        """Runs one more 30 s job on `box`; returns its group leader and its program."""
        before = set(children(box.proc.pid))
        status, body, _ = http("POST", box.url + "/api/v1/jobs", {"command": "nap"},
                               {"Authorization": "Bearer " + API_TOKEN, "X-Meeseeks-As": "U_SRE"})
        self.assertEqual(status, 202, body)
        deadline = time.time() + 10
        while time.time() < deadline:
            leaders = [p for p in children(box.proc.pid) if p not in before and children(p)]
            if leaders:
                return leaders[0], children(leaders[0])[0]
            time.sleep(0.05)
        self.fail("the job did not start")

    def servers(self, box):
        return [p for p in children(box.proc.pid) if not gone(p) and cmdline(p)[1:2] == ["--serve"]]

    def dies_with_the_box(self, box, leader, program, *others):
        """Kills the box; the job's guardian and program, and `others`, must follow within 5 s."""
        self.assertEqual(os.getpgid(program), leader)  # the guardian leads the job's group
        box.proc.kill()
        box.proc.wait()
        everyone = (program, leader) + others
        deadline = time.time() + 5
        while not all(gone(p) for p in everyone) and time.time() < deadline:
            time.sleep(0.05)
        self.assertTrue(gone(program), "the job outlived its box")
        self.assertTrue(gone(leader), "the guardian outlived its box")
        for other in others:
            self.assertTrue(gone(other), "%s (%d) outlived its box" % (" ".join(cmdline(other)) if not gone(other) else "", other))

    def test_the_guardian_program_leads_the_job(self):
        box, leader, program = self.job_leader(os.path.join(BIN, "meeseeks"))
        self.assertEqual(comm(leader), "meeseeks-guardi")  # comm keeps 15 characters
        self.assertEqual(comm(program), "sleep")
        # Cloned by the box's one guardian server, as the box's own child.
        self.assertEqual(cmdline(leader)[1:3], ["--job", str(box.proc.pid)])
        [server] = self.servers(box)
        self.assertEqual(os.getpgid(server), server)  # out of the box's group: no terminal's signals
        self.assertEqual(children(server), [])
        second, _ = self.start_nap(box)
        self.assertEqual(self.servers(box), [server])  # one server for every job
        self.assertEqual(cmdline(second)[1], "--job")
        self.dies_with_the_box(box, leader, program, second, server)

    def test_a_killed_guardian_server_is_replaced_and_its_jobs_run_on(self):
        box, leader, program = self.job_leader(os.path.join(BIN, "meeseeks"))
        [server] = self.servers(box)
        os.kill(server, signal.SIGKILL)
        deadline = time.time() + 5
        while not gone(server) and time.time() < deadline:
            time.sleep(0.05)
        self.assertFalse(gone(program), "the job died with the server")  # it is the box's
        second, second_program = self.start_nap(box)
        self.assertEqual(comm(second_program), "sleep")
        [replacement] = self.servers(box)
        self.assertNotEqual(replacement, server)
        self.assertNotIn(server, children(box.proc.pid), "the killed server was not reaped")
        self.dies_with_the_box(box, leader, program, second, second_program, replacement)

    def test_a_stalled_guardian_server_is_killed_and_its_job_runs_once(self):
        box, leader, program = self.job_leader(os.path.join(BIN, "meeseeks"))
        [server] = self.servers(box)
        os.kill(server, signal.SIGSTOP)  # it gets the next request and never answers
        started = time.time()
        second, second_program = self.start_nap(box)
        # After 5 s without an answer the box kills it; it had started nothing, so the job gets a
        # guardian of its own: one program, not two.
        self.assertGreater(time.time() - started, 4)
        self.assertTrue(gone(server), "the stalled server was not killed")
        self.assertNotIn(server, children(box.proc.pid), "the stalled server was not reaped")
        naps = [p for p in children(box.proc.pid) if not gone(p) and children(p)]
        self.assertEqual(sorted(naps), sorted([leader, second]))
        self.assertEqual([comm(p) for p in children(second)], ["sleep"])
        third, _ = self.start_nap(box)
        [replacement] = self.servers(box)
        self.assertEqual(cmdline(third)[1], "--job")
        self.dies_with_the_box(box, leader, program, second, second_program, third, replacement)

    def test_a_box_that_is_the_first_process_of_its_namespace_runs_jobs(self):
        # As mrmeeseeks or meeseeks run as a container's PID 1: the guardians' parent is pid 1.
        unshare = shutil.which("unshare")
        if unshare is None:
            self.skipTest("no unshare(1)")
        # --kill-child: the box dies with unshare, which ignores SIGTERM while it waits.
        isolate = [unshare, "--pid", "--fork", "--mount-proc", "--kill-child"]
        if os.geteuid() != 0:
            isolate[1:1] = ["--user", "--map-root-user"]
        with open(os.path.join(self.config, "commands.d", "hello.yaml"), "w") as f:
            f.write("name: hello\nsummary: Says hello\nrun: [/bin/echo, hello]\n")
        box = Spawned(isolate + [os.path.join(BIN, "meeseeks"), "serve", "--config", self.config, "--db",
                                 os.path.join(self.work, "box.db"), "--http", "127.0.0.1:0", "--grpc", "127.0.0.1:0"],
                      env=dict(os.environ, MEESEEKS_API_TOKEN=API_TOKEN))
        self.addCleanup(box.stop, signal.SIGKILL)
        url = "http://" + box.wait_line("http listening on").split()[-1]
        headers = {"Authorization": "Bearer " + API_TOKEN, "X-Meeseeks-As": "U_SRE"}
        status, body, _ = http("POST", url + "/api/v1/jobs", {"command": "hello"}, headers)
        self.assertEqual(status, 202, body)
        job = json.loads(body)["id"]
        deadline = time.time() + 10
        while time.time() < deadline:
            detail = json.loads(http("GET", url + "/api/v1/jobs/%d" % job, None, headers)[1])["job"]
            if detail["status"] not in ("queued", "running"):
                break
            time.sleep(0.05)
        self.assertEqual(detail["status"], "succeeded", detail)
        self.assertIn("hello", http("GET", url + "/api/v1/jobs/%d/output" % job, None, headers)[1])

    def test_a_helper_that_cannot_serve_is_started_for_each_job(self):
        # An older meeseeks-guardian: it guards one job and refuses --serve.
        folder = os.path.join(self.work, "old")
        os.mkdir(folder)
        alone = os.path.join(folder, "meeseeks")
        try:
            os.link(os.path.join(BIN, "meeseeks"), alone)
        except OSError:
            shutil.copy(os.path.join(BIN, "meeseeks"), alone)
        with open(os.path.join(folder, "meeseeks-guardian"), "w") as f:
            f.write('#!/bin/sh\n[ "$1" = --serve ] && exit 2\nexec %s "$@"\n' % os.path.join(BIN, "meeseeks-guardian"))
        os.chmod(os.path.join(folder, "meeseeks-guardian"), 0o755)
        box, leader, program = self.job_leader(alone)
        self.assertEqual(comm(leader), "meeseeks-guardi")
        self.assertEqual(cmdline(leader)[1], str(box.proc.pid))  # one job's guardian, not a clone
        self.assertEqual(comm(program), "sleep")
        self.assertEqual(self.servers(box), [])
        second, _ = self.start_nap(box)
        self.assertEqual(cmdline(second)[1], str(box.proc.pid))
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
