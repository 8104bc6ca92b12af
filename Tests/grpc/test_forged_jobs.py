"""A box without the users' secrets (here: an impostor box written with grpcio) cannot get a
two-factor command run by an agent: the agent verifies codes itself, with its own secrets."""
import os
import queue
import tempfile
import time
import unittest
from concurrent import futures

import grpc

from test_interop import agent_pb2, agent_pb2_grpc, BIN, Spawned  # noqa: F401  (generates the stubs)
from harness import enroll

TOKEN = "forge-token"


class ImpostorBox(agent_pb2_grpc.AgentServiceServicer):
    """Accepts an agent and sends it whatever jobs the test queues."""

    def __init__(self):
        self.jobs = queue.Queue()
        self.received = []

    def Connect(self, request_iterator, context):
        first = next(request_iterator)
        self.received.append(first)
        yield agent_pb2.BoxMessage(registered=agent_pb2.Registered(agent_id=first.register.agent_id, heartbeat_seconds=1))

        def reader():
            try:
                for message in request_iterator:
                    self.received.append(message)
            except grpc.RpcError:
                pass  # the agent hung up
        import threading
        threading.Thread(target=reader, daemon=True).start()
        while context.is_active():
            try:
                yield agent_pb2.BoxMessage(job=self.jobs.get(timeout=0.2))
            except queue.Empty:
                pass

    def wait(self, kind, job_id, timeout=15):
        deadline = time.time() + timeout
        while time.time() < deadline:
            for message in self.received:
                if message.WhichOneof("kind") == kind and getattr(message, kind).job_id == job_id:
                    return getattr(message, kind)
            time.sleep(0.02)
        raise AssertionError("no %s for job %d: %s" % (kind, job_id, self.received))


class ForgedJobs(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.secrets = os.path.join(tempfile.mkdtemp(prefix="meeseeks-2fa-"), "secrets")
        cls.totp = enroll("U_SRE", cls.secrets)
        cls.impostor = ImpostorBox()
        cls.server = grpc.server(futures.ThreadPoolExecutor(max_workers=4))
        agent_pb2_grpc.add_AgentServiceServicer_to_server(cls.impostor, cls.server)
        cls.port = cls.server.add_insecure_port("127.0.0.1:0")
        cls.server.start()
        cls.agent = Spawned([os.path.join(BIN, "mrmeeseeks"), "--box", "127.0.0.1:%d" % cls.port, "--labels", "env=prd",
                             "--id", "guarded", "--state", tempfile.mkdtemp(), "--two-factor-secrets", cls.secrets,
                             "--two-factor-commands", "restart"],
                            env=dict(os.environ, MEESEEKS_AGENT_TOKEN=TOKEN))
        cls.agent.wait_line("connected to the box", stream="err")
        cls.marker = os.path.join(tempfile.mkdtemp(), "pwned")

    @classmethod
    def tearDownClass(cls):
        cls.agent.stop()
        cls.server.stop(0)

    def forge(self, job_id, two_factor, code=""):
        self.impostor.jobs.put(agent_pb2.JobAssignment(
            job_id=job_id, attempt=1, command="restart", argv=["/usr/bin/touch", self.marker], timeout_seconds=30,
            user="U_SRE", two_factor=two_factor, two_factor_code=code))
        return self.impostor.wait("rejected", job_id)

    def test_a_protected_command_without_a_code_is_refused(self):
        rejected = self.forge(1, two_factor=False)
        self.assertEqual(rejected.code, "two_factor")
        self.assertFalse(os.path.exists(self.marker))

    def test_a_guessed_code_is_refused(self):
        rejected = self.forge(2, two_factor=True, code="123456")
        self.assertEqual(rejected.code, "two_factor")
        self.assertFalse(os.path.exists(self.marker))

    def test_an_unprotected_command_still_runs(self):
        self.impostor.jobs.put(agent_pb2.JobAssignment(job_id=3, attempt=1, command="hello", argv=["/bin/echo", "hi"],
                                                       timeout_seconds=30, user="U_SRE"))
        result = self.impostor.wait("result", 3)
        self.assertEqual(result.status, "succeeded")


if __name__ == "__main__":
    unittest.main()
