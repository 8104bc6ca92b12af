"""Agents that bring their own commands (mrmeeseeks --config): the box offers them and sends only
argument values; the agent checks those and builds what runs. Real box, real agents, real gRPC;
a forged box (grpcio) proves the agent refuses what a compromised box could send."""
import os
import shutil
import signal
import subprocess
import tempfile
import time
import unittest

from test_interop import agent_pb2, BIN, SRE_POLICY, Spawned, config_dir, API_TOKEN, PythonAgent, start_box  # noqa: F401
from test_forged_jobs import ImpostorBox

import grpc
from concurrent import futures
from test_interop import agent_pb2_grpc

TOKEN = "own-commands-token"

GREET = """name: greet
summary: Greet someone
run: ["/bin/echo", "hello", "{{who}}"]
args:
  - name: who
    prompt: Who?
    pattern: "[a-z]+"
"""
# The same name, run differently: another definition.
GREET_OTHER = GREET.replace('"hello"', '"howdy"')
# A name the box defines too: the box's wins.
HELLO_OWN = """name: hello
summary: The agent's hello
run: ["/bin/echo", "agent hello"]
"""
WAVE = """name: wave
summary: Wave
run: ["/bin/echo", "waving"]
"""


def agent_dir(files):
    path = tempfile.mkdtemp(prefix="mrmeeseeks-config-")
    os.makedirs(os.path.join(path, "commands.d"))
    for name, text in files.items():
        with open(os.path.join(path, "commands.d", name), "w") as f:
            f.write(text)
    return path


def run(*argv, env=None, stdin=""):
    return subprocess.run([os.path.join(BIN, argv[0]), *argv[1:]], capture_output=True, text=True, timeout=60,
                          input=stdin, env=env)


class Lint(unittest.TestCase):
    def test_lint_takes_a_good_folder_and_reports_a_broken_one_like_the_box(self):
        good = agent_dir({"greet.yaml": GREET})
        self.assertEqual(run("mrmeeseeks", "lint", "--config", good).returncode, 0)
        broken = agent_dir({"bad.yaml": "name: help\nsummary: x\nrun: [/bin/true]\n"})
        result = run("mrmeeseeks", "lint", "--config", broken)
        self.assertEqual(result.returncode, 1)
        self.assertRegex(result.stderr, r"bad\.yaml:1:\d+: error: .*built-in")
        box = run("meeseeks", "lint", os.path.join(broken, "commands.d", "bad.yaml"))
        self.assertEqual(result.stderr.splitlines()[0], box.stderr.splitlines()[0])

    def test_an_agent_with_a_broken_folder_does_not_start(self):
        broken = agent_dir({"bad.yaml": "name: x\nsummary: x\nrun: [/bin/true]\ntimeout: soon\n"})
        result = run("mrmeeseeks", "--box", "127.0.0.1:1", "--config", broken, "--state", tempfile.mkdtemp(),
                     env=dict(os.environ, MEESEEKS_AGENT_TOKEN=TOKEN))
        self.assertNotEqual(result.returncode, 0)
        self.assertIn("bad.yaml", result.stderr)


class OwnCommandsThroughTheBox(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.config, cls.box, cls.http, cls.grpc = start_box({
            "commands.d/hello.yaml": "name: hello\nsummary: Hello\nrun: [/bin/echo, box hello]\n",
            "commands.d/restart.yaml": "name: restart\nsummary: Restart\nrun: [/bin/echo, restarting]\ntwo_factor: true\n",
            "policies.d/p.yaml": SRE_POLICY,
        }, agent_token=TOKEN)
        cls.agents = {}

    @classmethod
    def tearDownClass(cls):
        for agent in cls.agents.values():
            agent.stop()
        cls.box.stop()

    @classmethod
    def start_agent(cls, name, folder, *extra):
        agent = Spawned([os.path.join(BIN, "mrmeeseeks"), "--box", cls.grpc, "--id", name, "--labels", "team=" + name,
                         "--config", folder, "--state", tempfile.mkdtemp(), *extra],
                        env=dict(os.environ, MEESEEKS_AGENT_TOKEN=TOKEN))
        agent.wait_line("connected to the box", stream="err")
        cls.agents[name] = agent
        return agent

    def cli(self, *args, stdin=""):
        return run("meeseeks", *args, stdin=stdin, env=dict(os.environ, MEESEEKS_URL=self.http, MEESEEKS_API_TOKEN=API_TOKEN))

    def wait_for(self, predicate, what, timeout=20):
        deadline = time.time() + timeout
        while time.time() < deadline:
            value = predicate()
            if value:
                return value
            time.sleep(0.1)
        self.fail("timed out waiting for " + what)

    def agents_text(self):
        result = self.cli("agents")
        self.assertEqual(result.returncode, 0, result.stderr)
        return result.stdout

    def help_text(self):
        return self.cli("chat", "--as", "U_SRE", "help").stdout

    def test_1_an_own_command_is_offered_runs_and_conflicts_and_shadows_are_shown(self):
        folder = agent_dir({"greet.yaml": GREET, "hello.yaml": HELLO_OWN})
        self.start_agent("alpha", folder)
        self.wait_for(lambda: "greet" in self.help_text(), "greet in help")
        result = self.cli("run", "--as", "U_SRE", "greet", "who=rick")
        self.assertEqual((result.returncode, result.stdout), (0, "hello rick\n"), result.stderr)
        # The box checks the value against the definition before anything is sent.
        refused = self.cli("run", "--as", "U_SRE", "greet", "who=Rick;rm")
        self.assertNotEqual(refused.returncode, 0)
        self.assertIn("does not match the pattern", refused.stderr + refused.stdout)
        # The box's hello wins over the agent's, and the agent does not run the box's either.
        self.assertIn("shadowed hello", self.agents_text())
        # Another agent with another greet: in conflict, never sent greet.
        self.start_agent("beta", agent_dir({"greet.yaml": GREET_OTHER}))
        text = self.wait_for(lambda: "CONFLICT greet" in self.agents_text() and self.agents_text(), "the conflict")
        self.assertRegex(text, r"alpha .*own greet")
        for _ in range(4):
            again = self.cli("run", "--as", "U_SRE", "greet", "who=morty")
            self.assertEqual(again.stdout, "hello morty\n")
        # SIGHUP: alpha's new command is offered, its running set unchanged.
        with open(os.path.join(folder, "commands.d", "wave.yaml"), "w") as f:
            f.write(WAVE)
        self.agents["alpha"].proc.send_signal(signal.SIGHUP)
        self.wait_for(lambda: "wave" in self.help_text(), "wave after SIGHUP")
        self.assertEqual(self.cli("run", "--as", "U_SRE", "wave").stdout, "waving\n")
        # A broken set on SIGHUP keeps the old one.
        with open(os.path.join(folder, "commands.d", "broken.yaml"), "w") as f:
            f.write("name: [\n")
        self.agents["alpha"].proc.send_signal(signal.SIGHUP)
        self.agents["alpha"].wait_line("own commands not reloaded", stream="err")
        self.assertEqual(self.cli("run", "--as", "U_SRE", "wave").stdout, "waving\n")
        os.remove(os.path.join(folder, "commands.d", "broken.yaml"))

    def test_2_commands_leave_with_their_agents(self):
        if "alpha" not in self.agents:
            self.skipTest("needs test_1's agents")
        self.agents.pop("alpha").stop()
        # beta's definition is the only one left: it is accepted now.
        self.wait_for(lambda: "beta" in self.agents_text() and "CONFLICT" not in self.agents_text(), "beta owning greet")
        self.assertEqual(self.cli("run", "--as", "U_SRE", "greet", "who=summer").stdout, "howdy summer\n")
        self.agents.pop("beta").stop()
        self.wait_for(lambda: "greet" not in self.help_text(), "greet out of help")
        gone = self.cli("run", "--as", "U_SRE", "greet", "who=jerry")
        self.assertNotEqual(gone.returncode, 0)
        self.assertIn("no agent is connected", gone.stderr + gone.stdout)

    def test_3_two_factor_goes_only_where_codes_can_be_checked(self):
        self.start_agent("gamma", agent_dir({"wave.yaml": WAVE}), "--commands", "restart")
        refused = self.cli("run", "--as", "U_SRE", "restart", "--code", "123456")
        self.assertNotEqual(refused.returncode, 0)
        self.assertIn("needs a 2FA code, and no agent that would run it can check one", refused.stderr + refused.stdout)
        self.assertIn("no-2fa", self.agents_text())
        self.agents.pop("gamma").stop()


class ForgedJobsForOwnCommands(unittest.TestCase):
    """A compromised box (grpcio) sends what it likes: the agent runs only its own definitions."""

    @classmethod
    def setUpClass(cls):
        cls.scratch = tempfile.mkdtemp(prefix="meeseeks-marks-")
        mark = 'name: mark\nsummary: Mark\nrun: ["/usr/bin/touch", "%s/{{name}}"]\nargs:\n  - {name: name, pattern: "[a-z]+"}\n' % cls.scratch
        cls.impostor = ImpostorBox()
        cls.server = grpc.server(futures.ThreadPoolExecutor(max_workers=4))
        agent_pb2_grpc.add_AgentServiceServicer_to_server(cls.impostor, cls.server)
        cls.port = cls.server.add_insecure_port("127.0.0.1:0")
        cls.server.start()
        cls.agent = Spawned([os.path.join(BIN, "mrmeeseeks"), "--box", "127.0.0.1:%d" % cls.port, "--id", "owner",
                             "--config", agent_dir({"mark.yaml": mark}), "--state", tempfile.mkdtemp()],
                            env=dict(os.environ, MEESEEKS_AGENT_TOKEN=TOKEN))
        cls.agent.wait_line("connected to the box", stream="err")

    @classmethod
    def tearDownClass(cls):
        cls.agent.stop()
        cls.server.stop(0)
        shutil.rmtree(cls.scratch, ignore_errors=True)

    def send(self, job_id, **fields):
        fields.setdefault("command", "mark")
        self.impostor.jobs.put(agent_pb2.JobAssignment(job_id=job_id, attempt=1, timeout_seconds=30, user="U_SRE", **fields))

    def refused(self, job_id, **fields):
        self.send(job_id, **fields)
        rejected = self.impostor.wait("rejected", job_id)
        self.assertEqual(os.listdir(self.scratch), [], "something ran")
        return rejected

    def test_the_registration_carries_the_definitions(self):
        register = self.impostor.received[0].register
        self.assertTrue(register.own_commands_only)
        self.assertFalse(register.verifies_two_factor)
        [definition] = register.definitions
        self.assertEqual((definition.name, definition.arguments[0].pattern), ("mark", "[a-z]+"))
        self.assertRegex(definition.digest, r"^[0-9a-f]{64}$")
        self.assertNotIn("touch", str(definition))  # how it runs stays on the agent

    def test_argv_for_an_own_command_is_refused(self):
        marker = os.path.join(self.scratch, "argv")
        rejected = self.refused(101, argv=["/usr/bin/touch", marker])
        self.assertEqual(rejected.code, "invalid")
        rejected = self.refused(102, agent_owned=True, argv=["/usr/bin/touch", marker], arguments={"name": "a"})
        self.assertIn("must not bring argv", rejected.reason)

    def test_a_script_is_refused(self):
        rejected = self.refused(103, agent_owned=True, script="#!/bin/sh\ntouch %s/script\n" % self.scratch, arguments={"name": "a"})
        self.assertEqual(rejected.code, "invalid")

    def test_values_out_of_the_definition_are_refused(self):
        self.assertIn("does not match the pattern", self.refused(104, agent_owned=True, arguments={"name": "../../x"}).reason)
        self.assertIn("has no argument 'extra'", self.refused(105, agent_owned=True, arguments={"name": "a", "extra": "b"}).reason)
        self.assertIn("needs a value", self.refused(106, agent_owned=True).reason)
        self.assertIn("must not set LD_PRELOAD",
                      self.refused(107, agent_owned=True, arguments={"name": "a"}, environment={"LD_PRELOAD": "/tmp/x.so"}).reason)

    def test_unknown_and_box_commands_are_refused(self):
        self.assertIn("defines no command", self.refused(108, command="nuke", agent_owned=True).reason)
        rejected = self.refused(109, command="hello", argv=["/usr/bin/touch", os.path.join(self.scratch, "box")])
        self.assertEqual(rejected.code, "not_accepted")

    def test_valid_values_run_its_own_definition(self):
        self.send(110, agent_owned=True, arguments={"name": "ok"})
        self.assertEqual(self.impostor.wait("result", 110).status, "succeeded")
        self.assertEqual(os.listdir(self.scratch), ["ok"])
        os.remove(os.path.join(self.scratch, "ok"))


class PythonAgentAdvertises(unittest.TestCase):
    """The protocol stays plain gRPC: a grpcio agent brings a command and runs it."""

    def test_a_grpcio_agent_offers_and_runs_its_command(self):
        config = config_dir({"policies.d/p.yaml": "roles:\n  sre: {members: [U_SRE]}\ngrants:\n  - {roles: [sre], commands: [\"*\"]}\n",
                             "commands.d/none.yaml": "name: noop\nsummary: Nothing\nrun: [/bin/true]\n"})
        env = dict(os.environ, MEESEEKS_AGENT_TOKEN=TOKEN, MEESEEKS_API_TOKEN=API_TOKEN)
        box = Spawned([os.path.join(BIN, "meeseeks"), "serve", "--config", config, "--http", "127.0.0.1:0",
                       "--grpc", "127.0.0.1:0", "--no-local-agent"], env=env)
        try:
            url = "http://" + box.wait_line("http listening on").split()[-1]
            target = box.wait_line("grpc listening on").split()[-1]
            definition = agent_pb2.CommandDefinition(
                name="py-ping", summary="Ping from Python", digest="ab" * 32, mode="one",
                arguments=[agent_pb2.ArgumentDefinition(name="host", type="text", pattern="[a-z.]+", required=True)])
            agent = PythonAgent(target, token=TOKEN, agent_id="py-owner", definitions=[definition], own_only=True)
            try:
                agent.wait("registered")
                result = run("meeseeks", "run", "--as", "U_SRE", "py-ping", "host=example.org",
                             env=dict(os.environ, MEESEEKS_URL=url, MEESEEKS_API_TOKEN=API_TOKEN))
                self.assertEqual(result.returncode, 0, result.stderr)
                self.assertEqual(result.stdout, "python ran py-ping for U_SRE\n")
                job = agent.wait("job").job
                self.assertTrue(job.agent_owned)
                self.assertEqual(dict(job.arguments), {"host": "example.org"})
                self.assertEqual((list(job.argv), job.script), ([], ""))
                # It runs only its own: the box's noop never goes there.
                noop = run("meeseeks", "run", "--as", "U_SRE", "noop", env=dict(os.environ, MEESEEKS_URL=url, MEESEEKS_API_TOKEN=API_TOKEN))
                self.assertNotEqual(noop.returncode, 0)
            finally:
                agent.close()
        finally:
            box.stop()


if __name__ == "__main__":
    unittest.main()
