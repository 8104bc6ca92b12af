"""Second factor end to end: pyotp's codes accepted by the agent, replays and brute force refused,
a box without secrets unable to get a protected command run, and every attempt audited."""
import json
import os
import subprocess
import sys
import tempfile
import unittest


HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(REPO, "Tests", "slack"))
from harness import API_TOKEN, BIN, Spawned, config_dir, enroll  # noqa: E402

RESTART = """name: restart
summary: Restart a service
run: ["/bin/sh", "-c", "echo restarted {{service}}; touch {{marker}}"]
args:
  - {name: service, choices: [nginx, redis]}
  - {name: marker, type: text}
two_factor: true
"""
POLICY = "roles:\n  admin: {members: [U_ADMIN]}\n  sre: {members: [U_SRE, U_OTHER]}\ngrants:\n  - {roles: [sre], commands: [\"*\"]}\n"


def meeseeks(*args, env=None):
    return subprocess.run([os.path.join(BIN, "meeseeks"), *args], capture_output=True, text=True, env=env, timeout=60)


class BoxWithSecrets:
    def __init__(self, secrets=None):
        self.dir = config_dir({"commands.d/restart.yaml": RESTART, "policies.d/p.yaml": POLICY})
        argv = [os.path.join(BIN, "meeseeks"), "serve", "--config", self.dir, "--http", "127.0.0.1:0", "--grpc", "127.0.0.1:0"]
        if secrets:
            argv += ["--two-factor-secrets", secrets]
        self.spawned = Spawned(argv, env=dict(os.environ, MEESEEKS_API_TOKEN=API_TOKEN))
        self.url = "http://" + self.spawned.wait_line("http listening on").split()[-1]
        self.env = dict(os.environ, MEESEEKS_URL=self.url, MEESEEKS_API_TOKEN=API_TOKEN)

    def run(self, user, code, marker):
        return meeseeks("run", "--as", user, "restart", "nginx", "marker=" + marker, "--code", code, env=self.env)

    def audit(self, *args):
        result = meeseeks("audit", "--as", "U_ADMIN", "--json", *args, env=self.env)
        assert result.returncode == 0, result.stderr
        return json.loads(result.stdout)

    def stop(self):
        self.spawned.stop()


class TwoFactorOnTheEmbeddedAgent(unittest.TestCase):
    def setUp(self):
        self.secrets = os.path.join(tempfile.mkdtemp(prefix="meeseeks-2fa-"), "secrets")
        self.totp = enroll("U_SRE", self.secrets)
        self.other = enroll("U_OTHER", self.secrets)
        self.box = BoxWithSecrets(self.secrets)
        self.marker = os.path.join(tempfile.mkdtemp(), "ran")

    def tearDown(self):
        self.box.stop()

    def test_pyotp_code_is_accepted_once(self):
        code = self.totp.now()
        first = self.box.run("U_SRE", code, self.marker)
        self.assertEqual(first.returncode, 0, first.stderr)
        self.assertEqual(first.stdout, "restarted nginx\n")
        os.unlink(self.marker)
        again = self.box.run("U_SRE", code, self.marker)
        self.assertEqual(again.returncode, 1)
        self.assertIn("2FA: that code was already used", self.box_job_reason())
        self.assertFalse(os.path.exists(self.marker))
        outcomes = [e["record"]["outcome"] for e in self.box.audit("--user", "U_SRE") if e["record"]["action"].startswith("2fa.")]
        self.assertEqual(outcomes, ["passed", "failed"])
        self.assertNotIn(code, json.dumps(self.box.audit()))

    def box_job_reason(self):
        result = meeseeks("jobs", "--as", "U_SRE", "--json", env=self.box.env)
        return json.loads(result.stdout)[0].get("reason", "")

    def test_another_users_code_and_the_lockout(self):
        # A valid code, but U_OTHER's: wrong for U_SRE.
        self.assertEqual(self.box.run("U_SRE", self.other.now(), self.marker).returncode, 1)
        for _ in range(4):
            self.assertEqual(self.box.run("U_SRE", "000000", self.marker).returncode, 1)
        self.assertIn("wrong code", self.box_job_reason())
        # The sixth attempt is locked out, even with the right code.
        self.assertEqual(self.box.run("U_SRE", self.totp.now(), self.marker).returncode, 1)
        self.assertIn("locked out", self.box_job_reason())
        self.assertFalse(os.path.exists(self.marker))
        actions = [e["record"]["action"] for e in self.box.audit("--user", "U_SRE") if e["record"]["action"].startswith("2fa.")]
        self.assertEqual(actions, ["2fa.failed"] * 5 + ["2fa.locked"])
        # U_OTHER is not locked out.
        self.assertEqual(self.box.run("U_OTHER", self.other.now(), self.marker).returncode, 0)


class WithoutSecrets(unittest.TestCase):
    def test_a_box_without_secrets_cannot_run_a_2fa_command(self):
        box = BoxWithSecrets(None)
        marker = os.path.join(tempfile.mkdtemp(), "ran")
        try:
            result = box.run("U_SRE", "123456", marker)
            self.assertEqual(result.returncode, 1)
            self.assertFalse(os.path.exists(marker))
        finally:
            box.stop()

    def test_a_loose_secrets_file_is_refused_at_start(self):
        secrets = os.path.join(tempfile.mkdtemp(), "secrets")
        enroll("U_SRE", secrets)
        os.chmod(secrets, 0o644)
        d = config_dir({"commands.d/restart.yaml": RESTART, "policies.d/p.yaml": POLICY})
        result = subprocess.run([os.path.join(BIN, "meeseeks"), "serve", "--config", d, "--http", "127.0.0.1:0",
                                 "--grpc", "127.0.0.1:0", "--two-factor-secrets", secrets], capture_output=True, text=True, timeout=30)
        self.assertEqual(result.returncode, 1)
        self.assertIn("is readable or writable by others (mode 644); run chmod 600", result.stderr)

    def test_enrollment_lists_and_revokes_without_secrets(self):
        secrets = os.path.join(tempfile.mkdtemp(), "secrets")
        totp = enroll("U_SRE", secrets)
        self.assertEqual(os.stat(secrets).st_mode & 0o777, 0o600)
        listed = meeseeks("2fa", "list", "--secrets", secrets)
        self.assertIn("U_SRE\tsha1\t6 digits", listed.stdout)
        self.assertNotIn(totp.secret, listed.stdout)
        again = meeseeks("2fa", "enroll", "U_SRE", "--secrets", secrets)
        self.assertEqual(again.returncode, 2)
        self.assertIn("already enrolled", again.stderr)
        self.assertEqual(meeseeks("2fa", "revoke", "U_SRE", "--secrets", secrets).returncode, 0)
        self.assertEqual(meeseeks("2fa", "revoke", "U_SRE", "--secrets", secrets).returncode, 1)


if __name__ == "__main__":
    unittest.main()
