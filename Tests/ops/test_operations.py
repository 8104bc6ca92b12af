"""Operating the box: metrics that promtool and prometheus_client accept and that count right,
hot reload on SIGHUP (good and broken), health and readiness, and SIGTERM that loses nothing."""
import json
import os
import shutil
import signal
import subprocess
import sys
import time
import unittest

from prometheus_client.openmetrics.parser import text_string_to_metric_families as openmetrics_families
from prometheus_client.parser import text_string_to_metric_families

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(REPO, "Tests", "slack"))
from harness import API_TOKEN, BIN, Box, BoxWithFakeSlack, Fake, HELLO, POLICY, blocks_of, click, config_dir, http  # noqa: E402

PROMTOOL = os.environ.get("PROMTOOL") or shutil.which("promtool") or os.path.join(REPO, ".tools", "promtool")
CHANNEL = "C0OPS"


def samples(text):
    """{(name, frozenset(labels)): value} from the text format."""
    values = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            values[(sample.name, frozenset(sample.labels.items()))] = sample.value
    return values


def value(values, name, **labels):
    return values.get((name, frozenset(labels.items())), 0.0)


def meeseeks(box_url, *args):
    env = dict(os.environ, MEESEEKS_URL=box_url, MEESEEKS_API_TOKEN=API_TOKEN)
    return subprocess.run([os.path.join(BIN, "meeseeks"), *args], capture_output=True, text=True, env=env, timeout=60)


class Metrics(BoxWithFakeSlack):
    def scrape(self, openmetrics=False):
        headers = {"Accept": "application/openmetrics-text; version=1.0.0"} if openmetrics else {}
        status, text, response_headers = http("GET", self.box.url + "/metrics", headers=headers)
        self.assertEqual(status, 200)
        return text, response_headers

    def test_counters_move_by_the_right_amounts_and_the_exposition_is_valid(self):
        before = samples(self.scrape()[0])
        for _ in range(2):
            self.assertEqual(meeseeks(self.box.url, "run", "--as", "U_SRE", "hello", "world").returncode, 0)
        self.assertEqual(meeseeks(self.box.url, "run", "--as", "U_NOBODY", "hello", "world").returncode, 1)
        event = {"type": "app_mention", "user": "U_SRE", "text": "<@UBOT> hello who=Rick", "ts": "1.1", "channel": CHANNEL}
        self.assertEqual(self.box.event(event)[0], 200)
        calls = self.fake.wait_calls(lambda c: any("Greet Rick" in json.dumps(x["args"]) for x in c if x.get("ok")))
        confirm = [c for c in calls if "Greet Rick" in json.dumps(c["args"]) and c.get("ok")][-1]
        click(self.box, self.fake, "U_SRE", CHANNEL, blocks_of(confirm), "confirm_yes")
        self.fake.wait_calls(lambda c: any("All done" in json.dumps(x["args"]) for x in c if x.get("ok")))
        time.sleep(0.6)  # let the outbox settle
        text, headers = self.scrape()
        after = samples(text)

        def moved(name, **labels):
            return value(after, name, **labels) - value(before, name, **labels)

        self.assertEqual(moved("meeseeks_jobs_finished_total", command="hello", status="succeeded"), 3)
        self.assertEqual(moved("meeseeks_jobs_queued_total"), 3)
        self.assertEqual(moved("meeseeks_commands_total", command="hello", decision="allowed", reason="granted"), 3)
        self.assertEqual(moved("meeseeks_commands_total", command="hello", decision="refused", reason="no_role"), 1)
        self.assertEqual(moved("meeseeks_dialogs_total", outcome="opened"), 1)
        self.assertEqual(moved("meeseeks_dialogs_total", outcome="completed"), 1)
        self.assertEqual(moved("meeseeks_slack_requests_total", route="events", outcome="ok"), 1)
        self.assertEqual(moved("meeseeks_slack_requests_total", route="interactivity", outcome="ok"), 1)
        self.assertEqual(moved("meeseeks_job_duration_seconds_count", command="hello"), 3)
        # Each job was placed by a scheduler pass, timed in microsecond buckets (routing must
        # stay far below a millisecond with ten thousand agents).
        self.assertGreaterEqual(moved("meeseeks_scheduler_plan_seconds_count"), 3)
        self.assertIn(("meeseeks_scheduler_plan_seconds_bucket", frozenset({("le", "0.00001")})), after)
        self.assertGreaterEqual(moved("meeseeks_slack_api_calls_total", method="chat.postMessage", status="200"), 2)
        self.assertEqual(value(after, "meeseeks_agents_connected"), 1)
        self.assertEqual(value(after, "meeseeks_build_info", version="0.1.0"), 1)
        # No user or job ids as labels.
        for (name, labels) in after:
            for key, label in labels:
                self.assertNotIn(key, ("user", "job", "job_id", "dialog"))
                self.assertFalse(label.startswith("U_"), (name, key, label))

        # promtool's own lint, and the strict OpenMetrics parser.
        checked = subprocess.run([PROMTOOL, "check", "metrics"], input=text, capture_output=True, text=True)
        self.assertEqual(checked.returncode, 0, checked.stdout + checked.stderr)
        om, om_headers = self.scrape(openmetrics=True)
        self.assertTrue(om_headers["Content-Type"].startswith("application/openmetrics-text"))
        families = {f.name for f in openmetrics_families(om)}
        self.assertIn("meeseeks_jobs_finished", families)

    def test_health_and_readiness(self):
        self.assertEqual(http("GET", self.box.url + "/healthz")[0], 200)
        status, body, _ = http("GET", self.box.url + "/readyz")
        self.assertEqual(status, 200)
        self.assertEqual(json.loads(body), {"ready": True, "checks": {"config": True, "store": True}, "failed": [], "role": "leader"})


class Reload(unittest.TestCase):
    def setUp(self):
        self.fake = Fake()
        self.config = config_dir({"commands.d/hello.yaml": HELLO, "policies.d/p.yaml": POLICY})
        self.box = Box(self.config, self.fake)

    def tearDown(self):
        self.box.stop()
        self.fake.stop()

    def reloads(self, outcome):
        return value(samples(http("GET", self.box.url + "/metrics")[1]), "meeseeks_config_reloads_total", outcome=outcome)

    def wait_log(self, needle, count=1, timeout=10):
        deadline = time.time() + timeout
        while time.time() < deadline:
            if "".join(self.box.spawned.err).count(needle) >= count:
                return
            time.sleep(0.05)
        self.fail("no %r in the log" % needle)

    def test_a_new_command_after_sighup(self):
        self.assertEqual(meeseeks(self.box.url, "run", "--as", "U_SRE", "bye").returncode, 1)
        with open(os.path.join(self.config, "commands.d", "bye.yaml"), "w") as f:
            f.write("name: bye\nsummary: Say bye\nrun: [/bin/echo, bye]\n")
        self.box.spawned.proc.send_signal(signal.SIGHUP)
        self.wait_log("configuration reloaded")
        result = meeseeks(self.box.url, "run", "--as", "U_SRE", "bye")
        self.assertEqual((result.returncode, result.stdout), (0, "bye\n"))
        self.assertEqual(self.reloads("success"), 1)

    def test_a_broken_file_keeps_the_old_configuration(self):
        broken = os.path.join(self.config, "commands.d", "broken.yaml")
        with open(broken, "w") as f:
            f.write("name: hello\nsumary: again\nrun: [/bin/true]\n")
        self.box.spawned.proc.send_signal(signal.SIGHUP)
        self.wait_log("configuration reload refused")
        log = "".join(self.box.spawned.err)
        # The diagnostics exactly as `meeseeks lint` prints them.
        lint = subprocess.run([os.path.join(BIN, "meeseeks"), "lint", "--config", self.config], capture_output=True, text=True)
        self.assertEqual(lint.returncode, 1)
        for line in lint.stderr.strip().splitlines():
            self.assertIn(line, log)
        self.assertIn("%s:2:1: error: unknown key 'sumary' in a command; did you mean 'summary'?" % broken, log)
        self.assertEqual(self.reloads("failure"), 1)
        self.assertEqual(meeseeks(self.box.url, "run", "--as", "U_SRE", "hello", "world").returncode, 0)

    def test_a_reload_storm_coalesces(self):
        # Enough commands that a load takes a while, so signals pile up during one.
        for i in range(800):
            with open(os.path.join(self.config, "commands.d", "c%04d.yaml" % i), "w") as f:
                f.write("name: c%04d\nsummary: Command %d\nrun: [/bin/echo, \"{{x}}\"]\nargs: [{name: x, choices: [a, b]}]\n" % (i, i))
        with open(os.path.join(self.config, "commands.d", "bye.yaml"), "w") as f:
            f.write("name: bye\nsummary: Say bye\nrun: [/bin/echo, bye]\n")
        for _ in range(30):
            self.box.spawned.proc.send_signal(signal.SIGHUP)
            time.sleep(0.005)
        deadline = time.time() + 20
        while time.time() < deadline and "".join(self.box.spawned.err).count("configuration reloaded") < 1:
            time.sleep(0.05)
        time.sleep(3)
        self.assertLess(self.reloads("success"), 30)
        self.assertGreaterEqual(self.reloads("success"), 1)
        self.assertEqual(meeseeks(self.box.url, "run", "--as", "U_SRE", "bye").returncode, 0)
        self.assertEqual(self.box.spawned.proc.poll(), None)

    def test_watch_reloads_on_file_changes(self):
        self.box.stop()
        self.box = Box(self.config, self.fake, extra_args=["--watch"])
        bye = os.path.join(self.config, "commands.d", "bye.yaml")
        with open(bye, "w") as f:
            f.write("name: bye\nsummary: Say bye\nrun: [/bin/echo, bye]\n")
        self.wait_log("configuration reloaded")
        self.assertIn("reason=watch", "".join(self.box.spawned.err))
        result = meeseeks(self.box.url, "run", "--as", "U_SRE", "bye")
        self.assertEqual((result.returncode, result.stdout), (0, "bye\n"))
        # A broken edit is refused as a SIGHUP's would be; the running commands stay.
        with open(bye, "w") as f:
            f.write("name: bye\nsumary: Say bye\nrun: [/bin/echo, bye]\n")
        self.wait_log("configuration reload refused")
        self.assertEqual(meeseeks(self.box.url, "run", "--as", "U_SRE", "bye").returncode, 0)
        # Removing the file removes the command.
        os.unlink(bye)
        self.wait_log("configuration reloaded", count=2)
        self.assertEqual(meeseeks(self.box.url, "run", "--as", "U_SRE", "bye").returncode, 1)
        self.assertEqual(self.reloads("success"), 2)
        self.assertEqual(self.reloads("failure"), 1)

    def test_reload_through_the_api(self):
        status, body, _ = http("POST", self.box.url + "/api/v1/reload", {}, {"Authorization": "Bearer " + API_TOKEN})
        self.assertEqual(status, 200, body)
        self.assertTrue(json.loads(body)["applied"])


class GracefulShutdown(unittest.TestCase):
    def test_sigterm_lets_the_job_finish_and_flushes_the_outbox(self):
        fake = Fake()
        slow = "name: slow\nsummary: Slow\nrun: [/bin/sh, -c, \"sleep 2; echo finished\"]\n"
        config = config_dir({"commands.d/slow.yaml": slow, "policies.d/p.yaml": POLICY})
        db = os.path.join(config, "state.db")
        box = Box(config, fake, db=db)
        try:
            event = {"type": "app_mention", "user": "U_SRE", "text": "<@UBOT> slow", "ts": "1.1", "channel": CHANNEL}
            self.assertEqual(box.event(event)[0], 200)
            fake.wait_calls(lambda c: any("Can do" in json.dumps(x["args"]) for x in c if x.get("ok")))
            # Slack fails for a while: the result must still arrive before the box exits.
            fake.control("faults", {"method": "*", "mode": "500", "count": 3})
            box.spawned.proc.send_signal(signal.SIGTERM)
            self.assertEqual(box.spawned.proc.wait(timeout=60), 0)
            posted = [c for c in fake.control("calls") if c.get("ok") and "All done" in json.dumps(c["args"])]
            self.assertEqual(len(posted), 1)
            self.assertIn("finished", json.dumps(posted[0]["args"]))
            log = "".join(box.spawned.err)
            self.assertIn("draining", log)
        finally:
            box.stop()
            fake.stop()
        # And the job is recorded as finished, not lost.
        again_fake = Fake()
        again = Box(config, again_fake, db=db)
        try:
            jobs = json.loads(meeseeks(again.url, "jobs", "--as", "U_SRE", "--json").stdout)
            self.assertEqual([j["status"] for j in jobs], ["succeeded"])
        finally:
            again.stop()
            again_fake.stop()


if __name__ == "__main__":
    unittest.main()
