"""Four-eyes approval through the Slack fake, with the real box: approvers are asked with the
whole request, the requester never approves their own job, roles are checked when the button is
clicked, a denial carries its reason, an unanswered request expires, two approvers mean two
different people, and a job awaiting approval survives a restart (approved from the terminal)."""
import json
import os
import subprocess
import time
import unittest
import urllib.request

import tempfile

from harness import API_TOKEN, BIN, Box, Fake, blocks_of, check_blocks, check_view, click, config_dir, enroll, text_of

POLICY = """roles:
  sre: {members: [U_SRE]}
  lead: {members: [U_LEAD, U_LEAD2, U_LEAD3]}
  dev: {members: [U_DEV]}
grants:
  - {roles: [sre, lead], commands: ["*"]}
  - {roles: [dev], commands: [deploy]}
"""

DEPLOY = """name: deploy
summary: Deploy an environment
run: ["/bin/echo", "deployed {{env}}"]
args:
  - {name: env, choices: [stg, prd]}
approval: {roles: [lead], timeout: 30m}
"""

DROP = """name: drop
summary: Drop a database
run: ["/bin/echo", "dropped"]
approval: {roles: [lead], channel: C0APPROVE}
"""

WIPE = """name: wipe
summary: Wipe a cache
run: ["/bin/echo", "wiped"]
approval: {roles: [lead], count: 2}
"""

FLASH = """name: flash
summary: Needs a quick yes
run: ["/bin/echo", "flashed"]
approval: {roles: [lead], timeout: 4s}
"""

CHANNEL = "C0OPS"


class Approval(unittest.TestCase):
    def setUp(self):
        self.fake = Fake()
        self.config = config_dir({"commands.d/deploy.yaml": DEPLOY, "commands.d/drop.yaml": DROP, "commands.d/wipe.yaml": WIPE,
                                  "commands.d/flash.yaml": FLASH, "policies.d/p.yaml": POLICY})
        self.box = Box(self.config, self.fake)
        self.boxes = [self.box]

    def tearDown(self):
        for box in self.boxes:
            box.stop()
        self.fake.stop()

    # Helpers

    def request(self, user, text, ts):
        event = {"type": "app_mention", "user": user, "text": "<@UBOT> " + text, "ts": ts, "channel": CHANNEL}
        self.assertEqual(self.box.event(event)[0], 200)

    def approval_message(self, place, job_id, what="the approval request"):
        """The newest version of the approval request in a channel or DM (posted, then updated)."""
        def latest(calls):
            found = [c for c in calls if c["args"].get("channel") == place and "asks to run" in text_of(c)
                     and ("job *#%d*" % job_id) in text_of(c)]
            return found[-1] if found else None
        self.fake.wait_calls(lambda calls: latest(calls) is not None, what=what)
        call = latest(self.fake.control("calls"))
        check_blocks(blocks_of(call))
        return call

    def job_id_of(self, user):
        """The newest job of a user, through the API."""
        jobs = self.api("GET", "/api/v1/jobs?limit=1", user=user)["jobs"]
        return jobs[0]["id"]

    def api(self, method, path, body=None, user=None, token=API_TOKEN):
        headers = {"Authorization": "Bearer " + token, "Content-Type": "application/json"}
        if user:
            headers["X-Meeseeks-As"] = user
        request = urllib.request.Request(self.box.url + path, method=method, headers=headers,
                                         data=None if body is None else json.dumps(body).encode())
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                return json.loads(response.read() or b"{}")
        except urllib.error.HTTPError as error:
            return {"status": error.code, "body": json.loads(error.read() or b"{}")}

    def cli(self, *args, user=None, token=API_TOKEN):
        """The CLI with a token; `user` acts as that user (the bootstrap token's --as)."""
        env = dict(os.environ, MEESEEKS_API_TOKEN=token)
        env.pop("MEESEEKS_USER", None)
        return subprocess.run([os.path.join(BIN, "meeseeks"), *args, "--box", self.box.url] + (["--as", user] if user else []),
                              capture_output=True, text=True, timeout=60, env=env)

    def token_of(self, user):
        """A token of the user's own, as `meeseeks token create` makes it."""
        made = subprocess.run([os.path.join(BIN, "meeseeks"), "token", "create", "--config", self.config, "--user", user,
                               "--name", "own-" + user], capture_output=True, text=True, timeout=60)
        self.assertEqual(made.returncode, 0, made.stderr)
        return made.stdout.strip().split()[-1]

    def ephemeral_to(self, user, needle):
        self.fake.wait_calls(lambda calls: any(c["method"] == "chat.postEphemeral" and c["args"].get("user") == user
                                               and needle in c["args"].get("text", "") for c in calls),
                             what="an ephemeral to %s saying %r" % (user, needle))

    def wait_job(self, job_id, status, user, timeout=30):
        deadline = time.time() + timeout
        while time.time() < deadline:
            job = self.api("GET", "/api/v1/jobs/%d" % job_id, user=user)["job"]
            if job["status"] == status:
                return job
            time.sleep(0.2)
        self.fail("job #%d is %s, not %s" % (job_id, job["status"], status))

    def result_in_thread(self, thread, needle):
        self.fake.wait_calls(lambda calls: any(c["method"] == "chat.postMessage" and c["args"].get("thread_ts") == thread
                                               and needle in text_of(c) for c in calls),
                             timeout=40, what="%r in the requester's thread" % needle)

    def audit(self, job_id):
        entries = [e["record"] for e in self.api("GET", "/api/v1/audit?limit=1000")["entries"]]
        return [(e["action"], e["user"], e.get("reason")) for e in entries if e.get("jobID") == job_id]

    # Tests

    def test_the_requester_cannot_approve_a_second_person_does_and_it_runs(self):
        self.request("U_LEAD", "deploy env=prd", "10.1")
        self.fake.wait_calls(lambda calls: any("waits for approval" in text_of(c) for c in calls), what="the requester's notice")
        job_id = self.job_id_of("U_LEAD")
        self.assertEqual(self.wait_job(job_id, "awaiting_approval", "U_LEAD")["status"], "awaiting_approval")
        # Each other lead gets the request in a direct message, with the whole request; the requester gets none.
        request = self.approval_message("U_LEAD2", job_id)
        self.approval_message("U_LEAD3", job_id)
        self.assertIn("env=prd", text_of(request))
        self.assertIn("U_LEAD", text_of(request))
        self.assertFalse([c for c in self.fake.control("calls") if c["args"].get("channel") == "U_LEAD" and "asks to run" in text_of(c)])
        blocks = blocks_of(request)
        # The requester clicks Approve (on a copy of the message): refused, nothing changes.
        click(self.box, self.fake, "U_LEAD", "U_LEAD2", blocks, "approve")
        self.ephemeral_to("U_LEAD", "someone else must approve")
        # Someone without the role: refused.
        click(self.box, self.fake, "U_DEV", "U_LEAD2", blocks, "approve")
        self.ephemeral_to("U_DEV", "needs the role lead")
        self.assertEqual(self.wait_job(job_id, "awaiting_approval", "U_LEAD")["status"], "awaiting_approval")
        # A lead approves: it runs, and the requester hears who approved.
        click(self.box, self.fake, "U_LEAD2", "U_LEAD2", blocks, "approve")
        self.ephemeral_to("U_LEAD2", "You approved job #%d" % job_id)
        self.result_in_thread("10.1", "approved by U_LEAD2")
        self.result_in_thread("10.1", "deployed prd")
        self.assertEqual(self.wait_job(job_id, "succeeded", "U_LEAD")["status"], "succeeded")
        # Clicking again: refused, the job is no longer waiting.
        click(self.box, self.fake, "U_LEAD3", "U_LEAD3", blocks, "approve")
        self.ephemeral_to("U_LEAD3", "already ended")
        # Both messages now say who approved it, without buttons.
        closed = self.approval_message("U_LEAD3", job_id)
        self.assertIn("Approved by U_LEAD2", text_of(closed))
        self.assertNotIn('"approve"', json.dumps(blocks_of(closed)))
        actions = [a for a in self.audit(job_id)]
        self.assertIn(("approval.requested", "U_LEAD", None), actions)
        self.assertIn(("approval.refused", "U_LEAD", "own_request"), actions)
        self.assertIn(("approval.refused", "U_DEV", "no_role"), actions)
        self.assertIn(("approval.approved", "U_LEAD2", None), actions)
        self.assertIn(("approval.refused", "U_LEAD3", "job_ended"), actions)
        with urllib.request.urlopen(self.box.url + "/metrics", timeout=10) as response:
            metrics = response.read().decode()
        self.assertIn('meeseeks_approvals_total{command="deploy",decision="approved"} 1', metrics)
        self.assertIn('meeseeks_approvals_total{command="deploy",decision="refused"} 3', metrics)

    def test_a_denial_asks_why_and_the_requester_hears_it(self):
        self.request("U_SRE", "drop", "11.1")
        self.fake.wait_calls(lambda calls: any("waits for approval" in text_of(c) for c in calls), what="the requester's notice")
        job_id = self.job_id_of("U_SRE")
        request = self.approval_message("C0APPROVE", job_id)
        trigger = click(self.box, self.fake, "U_LEAD", "C0APPROVE", blocks_of(request), "deny")
        self.fake.wait_calls(lambda calls: any(c["method"] == "views.open" and c["args"].get("trigger_id") == trigger for c in calls),
                             what="the reason modal")
        opened = [c for c in self.fake.control("calls") if c["method"] == "views.open" and c["args"].get("trigger_id") == trigger][-1]
        view = opened["args"]["view"]
        view = json.loads(view) if isinstance(view, str) else view
        check_view(view)
        payload = {"type": "view_submission", "user": {"id": "U_LEAD"}, "trigger_id": self.fake.control("trigger")["trigger_id"],
                   "view": {"id": "V1", "callback_id": view["callback_id"], "private_metadata": view["private_metadata"],
                            "state": {"values": {"reason": {"reason": {"type": "plain_text_input", "value": "not on a Friday"}}}}}}
        status, _, _ = self.box.interact(payload)
        self.assertEqual(status, 200)
        self.result_in_thread("11.1", "denied by U_LEAD: not on a Friday")
        self.assertEqual(self.wait_job(job_id, "denied", "U_SRE")["reason"], "denied by U_LEAD: not on a Friday")
        self.assertIn("Denied by U_LEAD: not on a Friday", text_of(self.approval_message("C0APPROVE", job_id)))
        self.assertFalse([c for c in self.fake.control("calls") if "dropped" in text_of(c)], "a denied job ran")
        # A denial without a reason is refused (the terminal's way).
        self.request("U_SRE", "drop", "11.2")
        self.fake.wait_calls(lambda calls: sum("waits for approval" in text_of(c) for c in calls) >= 2, what="the second request")
        second = self.job_id_of("U_SRE")
        refused = self.api("POST", "/api/v1/jobs/%d/deny" % second, {"reason": "  "}, token=self.token_of("U_LEAD"))
        self.assertEqual(refused["status"], 400, refused)
        self.assertIn("needs a reason", refused["body"]["error"])

    def test_an_unanswered_request_expires_and_the_requester_is_told(self):
        self.request("U_SRE", "flash", "12.1")
        self.fake.wait_calls(lambda calls: any("waits for approval" in text_of(c) for c in calls), what="the requester's notice")
        job_id = self.job_id_of("U_SRE")
        self.result_in_thread("12.1", "expired")
        job = self.wait_job(job_id, "expired", "U_SRE")
        self.assertIn("nobody approved it within 4s", job["reason"])
        self.assertIn("Expired", text_of(self.approval_message("U_LEAD", job_id)))
        refused = self.api("POST", "/api/v1/jobs/%d/approve" % job_id, {}, token=self.token_of("U_LEAD"))
        self.assertEqual(refused["status"], 409, refused)
        self.assertIn(("approval.expired", "U_SRE", None), self.audit(job_id))
        self.assertFalse([c for c in self.fake.control("calls") if "flashed" in text_of(c)], "an expired job ran")

    def test_two_approvers_must_be_two_different_people(self):
        self.request("U_SRE", "wipe", "13.1")
        self.fake.wait_calls(lambda calls: any("waits for approval" in text_of(c) for c in calls), what="the requester's notice")
        job_id = self.job_id_of("U_SRE")
        blocks = blocks_of(self.approval_message("U_LEAD", job_id))
        click(self.box, self.fake, "U_LEAD", "U_LEAD", blocks, "approve")
        self.result_in_thread("13.1", "needs 1 more approval")
        click(self.box, self.fake, "U_LEAD", "U_LEAD", blocks, "approve")
        self.ephemeral_to("U_LEAD", "You already approved")
        self.assertEqual(self.wait_job(job_id, "awaiting_approval", "U_SRE")["status"], "awaiting_approval")
        click(self.box, self.fake, "U_LEAD3", "U_LEAD3", blocks, "approve")
        self.result_in_thread("13.1", "wiped")
        self.assertEqual(self.wait_job(job_id, "succeeded", "U_SRE")["status"], "succeeded")

    def test_meeseeks_run_says_it_waits_for_approval_then_prints_the_output(self):
        env = dict(os.environ, MEESEEKS_API_TOKEN=self.token_of("U_SRE"))
        env.pop("MEESEEKS_USER", None)
        run = subprocess.Popen([os.path.join(BIN, "meeseeks"), "run", "--box", self.box.url, "deploy", "env=prd"],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
        try:
            line = run.stderr.readline()
            self.assertIn("waits for approval", line)
            job_id = int(line.split("#")[1].split()[0])
            approved = self.api("POST", "/api/v1/jobs/%d/approve" % job_id, {}, token=self.token_of("U_LEAD"))
            self.assertEqual(approved["job"]["id"], job_id, approved)
            out, err = run.communicate(timeout=60)
        finally:
            if run.poll() is None:
                run.kill()
                run.wait()
        self.assertEqual((run.returncode, out), (0, "deployed prd\n"), err)

    def test_a_job_awaiting_approval_survives_a_restart_and_is_approved_from_the_terminal(self):
        self.request("U_SRE", "deploy env=stg", "14.1")
        self.fake.wait_calls(lambda calls: any("waits for approval" in text_of(c) for c in calls), what="the requester's notice")
        job_id = self.job_id_of("U_SRE")
        self.box.stop()
        self.box = Box(self.config, self.fake)
        self.boxes.append(self.box)
        lead2, sre = self.token_of("U_LEAD2"), self.token_of("U_SRE")
        listed = self.cli("approvals", token=lead2)
        self.assertEqual(listed.returncode, 0, listed.stderr)
        self.assertIn("#%d  deploy env=stg  requested by U_SRE" % job_id, listed.stdout)
        # The requester has nothing to approve; denying needs a reason.
        self.assertIn("Nothing waits for your approval", self.cli("approvals", token=sre).stdout)
        self.assertNotEqual(self.cli("deny", str(job_id), "--reason", " ", token=lead2).returncode, 0)
        own = self.cli("approve", str(job_id), token=sre)
        self.assertNotEqual(own.returncode, 0)
        self.assertIn("someone else must approve", own.stderr)
        # Four eyes are two people: a token acting as someone else neither decides nor asks.
        acting = self.cli("approve", str(job_id), user="U_LEAD2")
        self.assertNotEqual(acting.returncode, 0)
        self.assertIn("in one's own name", acting.stderr)
        asking = self.cli("run", "deploy", "env=prd", user="U_SRE")
        self.assertNotEqual(asking.returncode, 0)
        self.assertIn("in one's own name", asking.stderr)
        self.assertIn(("approval.refused", "U_LEAD2", "impersonated"), self.audit(job_id))
        approved = self.cli("approve", str(job_id), token=lead2)
        self.assertEqual(approved.returncode, 0, approved.stderr)
        self.assertIn("You approved job #%d (deploy); it is " % job_id, approved.stdout)
        self.result_in_thread("14.1", "deployed stg")
        self.assertEqual(self.wait_job(job_id, "succeeded", "U_SRE")["status"], "succeeded")


RESTART = """name: restart
summary: Restart a service
run: ["/bin/echo", "restarted {{service}}"]
args:
  - {name: service, choices: [nginx, redis]}
two_factor: true
approval: {roles: [lead]}
"""


class ApprovalWithTwoFactor(Approval):
    """A two-factor command that needs approval asks for the code once approved, so the agent
    checks a fresh one."""

    def setUp(self):
        self.secrets = os.path.join(tempfile.mkdtemp(prefix="meeseeks-2fa-"), "secrets")
        self.totp = enroll("U_SRE", self.secrets)
        self.fake = Fake()
        self.config = config_dir({"commands.d/restart.yaml": RESTART, "policies.d/p.yaml": POLICY})
        self.box = Box(self.config, self.fake, extra_args=("--two-factor-secrets", self.secrets))
        self.boxes = [self.box]

    # The other tests are the base class's, on another configuration.
    test_the_requester_cannot_approve_a_second_person_does_and_it_runs = None
    test_a_denial_asks_why_and_the_requester_hears_it = None
    test_an_unanswered_request_expires_and_the_requester_is_told = None
    test_two_approvers_must_be_two_different_people = None
    test_a_job_awaiting_approval_survives_a_restart_and_is_approved_from_the_terminal = None
    test_meeseeks_run_says_it_waits_for_approval_then_prints_the_output = None

    def test_the_code_is_asked_once_approved_and_the_agent_checks_it(self):
        self.request("U_SRE", "restart nginx", "20.1")
        self.fake.wait_calls(lambda calls: any("waits for approval" in text_of(c) for c in calls), what="the requester's notice")
        job_id = self.job_id_of("U_SRE")
        # Nothing asks for a code yet.
        self.assertFalse([c for c in self.fake.control("calls") if "second factor" in text_of(c) or c["method"] == "views.open"])
        stale = blocks_of(self.approval_message("U_LEAD2", job_id))
        click(self.box, self.fake, "U_LEAD", "U_LEAD", blocks_of(self.approval_message("U_LEAD", job_id)), "approve")
        self.fake.wait_calls(lambda calls: any(c["args"].get("channel") == CHANNEL and "needs a second factor" in text_of(c)
                                               for c in calls), what="the code prompt")
        prompt = [c for c in self.fake.control("calls") if c["args"].get("channel") == CHANNEL and "needs a second factor" in text_of(c)][-1]
        self.assertEqual(self.wait_job(job_id, "awaiting_approval", "U_SRE")["status"], "awaiting_approval")
        # Another approver is told it is decided already.
        click(self.box, self.fake, "U_LEAD2", "U_LEAD2", stale, "approve")
        self.ephemeral_to("U_LEAD2", "already approved")
        before = len(self.fake.control("calls"))
        click(self.box, self.fake, "U_SRE", CHANNEL, blocks_of(prompt), "code_open")
        calls = self.fake.wait_calls(lambda calls: any(c["method"] == "views.open" and c.get("ok") for c in calls[before:]), what="the modal")
        view = [c for c in calls[before:] if c["method"] == "views.open" and c.get("ok")][-1]["args"]["view"]
        view = json.loads(view) if isinstance(view, str) else view
        check_view(view)
        payload = {"type": "view_submission", "user": {"id": "U_SRE"}, "trigger_id": self.fake.control("trigger")["trigger_id"],
                   "view": {"id": "V1", "type": "modal", "callback_id": view["callback_id"], "private_metadata": view["private_metadata"],
                            "state": {"values": {"code": {"code": {"type": "plain_text_input", "value": self.totp.now()}}}}}}
        self.assertEqual(self.box.interact(payload)[0], 200)
        self.result_in_thread("20.1", "restarted nginx")
        self.assertEqual(self.wait_job(job_id, "succeeded", "U_SRE")["status"], "succeeded")
        self.assertIn(("2fa.passed", "U_SRE", None), [(a, u, None) for a, u, _ in self.audit(job_id)])
        # The terminal cannot give the code later: refused with the way to do it.
        refused = self.cli("run", "restart", "nginx", "--code", self.totp.now(), token=self.token_of("U_SRE"))
        self.assertNotEqual(refused.returncode, 0)
        self.assertIn("needs approval and then your 2FA code", refused.stderr)


if __name__ == "__main__":
    unittest.main()
