"""A minimal agent in Python (grpcio + the project's .proto): proof the protocol is plain gRPC."""
import os
import queue
import subprocess
import sys
import tempfile
import threading
import time
import unittest

import grpc
from grpc_tools import protoc

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(REPO, "Tests", "slack"))
from harness import Spawned, BIN, config_dir, API_TOKEN  # noqa: E402,F401

GENERATED = tempfile.mkdtemp(prefix="meeseeks-proto-")
assert protoc.main(["protoc", "-I" + os.path.join(REPO, "Protos"), "--python_out=" + GENERATED,
                    "--grpc_python_out=" + GENERATED, "meeseeks/agent/v1/agent.proto"]) == 0
sys.path.insert(0, GENERATED)
from meeseeks.agent.v1 import agent_pb2, agent_pb2_grpc  # noqa: E402
from grpc_health.v1 import health_pb2, health_pb2_grpc  # noqa: E402  (grpcio-health-checking: an independent oracle)

TOKEN = "interop-agent-token"
SRE_POLICY = "roles:\n  sre: {members: [U_SRE]}\ngrants:\n  - {roles: [sre], commands: [\"*\"]}\n"


def start_box(files, agent_token=TOKEN):
    """A box on these configuration files, without its embedded agent: (its configuration folder,
    the process, the HTTP URL, the gRPC address)."""
    config = config_dir(files)
    env = dict(os.environ, MEESEEKS_AGENT_TOKEN=agent_token, MEESEEKS_API_TOKEN=API_TOKEN)
    box = Spawned([os.path.join(BIN, "meeseeks"), "serve", "--config", config, "--http", "127.0.0.1:0",
                   "--grpc", "127.0.0.1:0", "--no-local-agent"], env=env)
    http = "http://" + box.wait_line("http listening on").split()[-1]
    grpc_address = box.wait_line("grpc listening on").split()[-1]
    return config, box, http, grpc_address


class PythonAgent:
    """Registers, takes one job, answers with output and a result, waits for the ack."""

    def __init__(self, target, token=TOKEN, agent_id="py-agent", definitions=(), own_only=False):
        self.channel = grpc.insecure_channel(target)
        self.stub = agent_pb2_grpc.AgentServiceStub(self.channel)
        self.outbox = queue.Queue()
        self.inbox = []
        self.outbox.put(agent_pb2.AgentMessage(register=agent_pb2.Register(
            agent_id=agent_id, hostname="python", labels={"lang": "python"}, slots=1, version="interop",
            definitions=list(definitions), own_commands_only=own_only)))
        self.responses = self.stub.Connect(self.requests(), metadata=[("authorization", "Bearer " + token)])
        self.error = None
        threading.Thread(target=self.read, daemon=True).start()

    def requests(self):
        while True:
            message = self.outbox.get()
            if message is None:
                return
            yield message

    def read(self):
        try:
            for message in self.responses:
                self.inbox.append(message)
                if message.WhichOneof("kind") == "job":
                    job = message.job
                    self.outbox.put(agent_pb2.AgentMessage(started=agent_pb2.JobStarted(job_id=job.job_id, attempt=job.attempt)))
                    data = ("python ran %s for %s\n" % (job.command, job.user)).encode()
                    self.outbox.put(agent_pb2.AgentMessage(output=agent_pb2.JobOutput(
                        job_id=job.job_id, attempt=job.attempt, offset=0, data=data)))
                    self.outbox.put(agent_pb2.AgentMessage(result=agent_pb2.JobResult(
                        job_id=job.job_id, attempt=job.attempt, status="succeeded", has_exit_code=True, exit_code=0)))
        except grpc.RpcError as e:
            self.error = e

    def wait(self, kind, timeout=20):
        deadline = time.time() + timeout
        while time.time() < deadline:
            for message in self.inbox:
                if message.WhichOneof("kind") == kind:
                    return message
            if self.error is not None:
                raise AssertionError("stream failed: %s" % self.error)
            time.sleep(0.02)
        raise AssertionError("no %s message" % kind)

    def close(self):
        self.outbox.put(None)
        self.channel.close()


class Interop(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.config, cls.box, cls.http, cls.grpc = start_box({
            "commands.d/hi.yaml": "name: hi\nsummary: Hi\nrun: [/bin/echo, hi]\ntarget: {selector: lang=python}\n",
            "policies.d/p.yaml": SRE_POLICY,
        })

    @classmethod
    def tearDownClass(cls):
        cls.box.stop()

    def cli(self, *args):
        env = dict(os.environ, MEESEEKS_URL=self.http, MEESEEKS_API_TOKEN=API_TOKEN)
        return subprocess.run([os.path.join(BIN, "meeseeks"), *args], capture_output=True, text=True, env=env, timeout=60)

    def test_python_agent_runs_a_job(self):
        agent = PythonAgent(self.grpc)
        try:
            registered = agent.wait("registered")
            self.assertEqual(registered.registered.agent_id, "py-agent")
            self.assertGreaterEqual(registered.registered.heartbeat_seconds, 1)
            result = self.cli("run", "--as", "U_SRE", "hi")
            self.assertEqual(result.returncode, 0, result.stderr)
            self.assertEqual(result.stdout, "python ran hi for U_SRE\n")
            job = agent.wait("job").job
            self.assertEqual(list(job.argv), ["/bin/echo", "hi"])
            self.assertEqual(job.environment["MEESEEKS_USER"], "U_SRE")
            ack = agent.wait("ack").ack
            self.assertEqual((ack.job_id, ack.attempt), (job.job_id, job.attempt))
        finally:
            agent.close()

    def test_wrong_token_is_refused_before_anything(self):
        agent = PythonAgent(self.grpc, token="nope", agent_id="py-intruder")
        deadline = time.time() + 10
        while agent.error is None and time.time() < deadline:
            time.sleep(0.02)
        agent.close()
        self.assertIsNotNone(agent.error)
        self.assertEqual(agent.error.code(), grpc.StatusCode.UNAUTHENTICATED)
        self.assertEqual(agent.inbox, [])

    def metric(self, name, **labels):
        from prometheus_client.parser import text_string_to_metric_families
        import urllib.request
        text = urllib.request.urlopen(self.http + "/metrics", timeout=10).read().decode()
        return sum(sample.value for family in text_string_to_metric_families(text) for sample in family.samples
                   if sample.name == name and all(sample.labels.get(k) == v for k, v in labels.items()))

    def test_reports_about_jobs_it_does_not_hold_are_ignored_and_counted(self):
        refused_before = self.metric("meeseeks_agents_refused_total")
        ignored_before = self.metric("meeseeks_agent_reports_ignored_total", reason="unknown_job")
        intruder = PythonAgent(self.grpc, token="nope", agent_id="py-intruder-2")
        deadline = time.time() + 10
        while intruder.error is None and time.time() < deadline:
            time.sleep(0.02)
        intruder.close()
        agent = PythonAgent(self.grpc, agent_id="py-confused")
        try:
            agent.wait("registered")
            agent.outbox.put(agent_pb2.AgentMessage(result=agent_pb2.JobResult(
                job_id=987654321, attempt=1, status="succeeded", has_exit_code=True, exit_code=0)))
            agent.outbox.put(agent_pb2.AgentMessage(output=agent_pb2.JobOutput(job_id=987654321, attempt=1, offset=0, data=b"x")))
            deadline = time.time() + 10
            while self.metric("meeseeks_agent_reports_ignored_total", reason="unknown_job") < ignored_before + 2 and time.time() < deadline:
                time.sleep(0.05)
            self.assertEqual(self.metric("meeseeks_agent_reports_ignored_total", reason="unknown_job"), ignored_before + 2)
            self.assertIsNone(agent.error)  # the stream stays up
            self.assertEqual(self.metric("meeseeks_agents_refused_total"), refused_before + 1)
            result = self.cli("jobs", "--as", "U_SRE")
            self.assertNotIn("987654321", result.stdout)
        finally:
            agent.close()

    def test_health_service(self):
        with grpc.insecure_channel(self.grpc) as channel:
            stub = health_pb2_grpc.HealthStub(channel)
            self.assertEqual(stub.Check(health_pb2.HealthCheckRequest()).status, health_pb2.HealthCheckResponse.SERVING)
            self.assertEqual(stub.Check(health_pb2.HealthCheckRequest(service="meeseeks.agent.v1.AgentService")).status,
                             health_pb2.HealthCheckResponse.SERVING)
            with self.assertRaises(grpc.RpcError) as caught:
                stub.Check(health_pb2.HealthCheckRequest(service="nope"))
            self.assertEqual(caught.exception.code(), grpc.StatusCode.NOT_FOUND)


if __name__ == "__main__":
    unittest.main()
