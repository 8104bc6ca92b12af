"""2FA fails closed: when the agent cannot keep its replay and lock-out state, a right code is
refused (never accepted twice), and the agent says so when it starts."""
import os
import sys
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(HERE)), "Tests", "slack"))
from harness import enroll  # noqa: E402
from test_two_factor import BoxWithSecrets  # noqa: E402


class StateThatCannotBeKept(unittest.TestCase):
    def test_right_code_refused_when_state_cannot_be_written(self):
        folder = tempfile.mkdtemp(prefix="meeseeks-2fa-closed-")
        secrets = os.path.join(folder, "secrets")
        totp = enroll("U_SRE", secrets)
        # The state is written through a temporary file then renamed; a folder in its place makes
        # every write fail, as a full disk or a read-only folder would (root ignores modes).
        os.mkdir(secrets + ".state.tmp")
        box = BoxWithSecrets(secrets)
        try:
            box.spawned.wait_line("2FA jobs will be refused", stream="err")
            marker = os.path.join(folder, "ran")
            result = box.run("U_SRE", totp.now(), marker)
            self.assertNotEqual(result.returncode, 0, result.stdout)
            self.assertIn("2FA is unavailable", result.stderr + result.stdout)
            self.assertFalse(os.path.exists(marker), "the job ran although its code could not be recorded")
            # Still refused: the same code never gets a second chance to work.
            again = box.run("U_SRE", totp.now(), marker)
            self.assertNotEqual(again.returncode, 0)
            self.assertFalse(os.path.exists(marker))
        finally:
            box.stop()

    def test_damaged_state_is_refused_not_reset(self):
        folder = tempfile.mkdtemp(prefix="meeseeks-2fa-damaged-")
        secrets = os.path.join(folder, "secrets")
        totp = enroll("U_SRE", secrets)
        with open(secrets + ".state", "w") as f:
            f.write("{not json")
        box = BoxWithSecrets(secrets)
        try:
            marker = os.path.join(folder, "ran")
            result = box.run("U_SRE", totp.now(), marker)
            self.assertNotEqual(result.returncode, 0)
            self.assertIn("damaged", result.stderr + result.stdout)
            self.assertFalse(os.path.exists(marker))
        finally:
            box.stop()


if __name__ == "__main__":
    unittest.main()
