"""An agent sending numbers and registrations out of range: refused with invalidArgument, the box
lives on and keeps serving other agents. An agent that falls silent is let go after lost_after."""
import json
import queue
import threading
import time
import unittest
import urllib.request

import grpc

import test_interop
from test_interop import API_TOKEN, TOKEN, PythonAgent, agent_pb2, agent_pb2_grpc


class HostileAgent(unittest.TestCase):
    setUpClass = classmethod(test_interop.Interop.setUpClass.__func__)
    tearDownClass = classmethod(test_interop.Interop.tearDownClass.__func__)
    cli = test_interop.Interop.cli
    test_python_agent_runs_a_job = test_interop.Interop.test_python_agent_runs_a_job
    def wait_error(self, agent, timeout=10):
        deadline = time.time() + timeout
        while agent.error is None and time.time() < deadline:
            time.sleep(0.02)
        return agent.error

    def test_output_offsets_out_of_range_end_the_stream_not_the_box(self):
        for offset in (2 ** 63, 2 ** 64 - 1, 2 ** 63 - 1):
            agent = PythonAgent(self.grpc, agent_id="py-hostile-%d" % (offset % 1000))
            try:
                agent.wait("registered")
                agent.outbox.put(agent_pb2.AgentMessage(output=agent_pb2.JobOutput(
                    job_id=1, attempt=1, offset=offset, data=b"boom")))
                agent.outbox.put(agent_pb2.AgentMessage(result=agent_pb2.JobResult(
                    job_id=1, attempt=1, status="succeeded", output_offset=offset, output_tail=b"tail")))
                error = self.wait_error(agent)
                self.assertIsNotNone(error, "offset %d was taken" % offset)
                self.assertEqual(error.code(), grpc.StatusCode.INVALID_ARGUMENT)
                self.assertIn("out of range", error.details())
            finally:
                agent.close()
            self.assertIsNone(self.box.proc.poll(), "the box died on offset %d" % offset)
        # Still serving: a well-behaved agent runs a job (test_python_agent_runs_a_job, run here too).

    def test_registrations_too_large_are_refused(self):
        cases = [
            dict(labels={"k%d" % i: "v" for i in range(65)}),
            dict(commands=["c%d" % i for i in range(1001)]),
            dict(hostname="h" * 254),
            dict(slots=0), dict(slots=2 ** 31 - 1), dict(slots=-1),
        ]
        for i, fields in enumerate(cases):
            agent = PythonAgent.__new__(PythonAgent)
            agent.channel = grpc.insecure_channel(self.grpc)
            agent.stub = agent_pb2_grpc.AgentServiceStub(agent.channel)
            agent.outbox, agent.inbox, agent.error = queue.Queue(), [], None
            register = dict(agent_id="py-big-%d" % i, hostname="python", slots=1, version="x")
            register.update(fields)
            agent.outbox.put(agent_pb2.AgentMessage(register=agent_pb2.Register(**register)))
            agent.responses = agent.stub.Connect(agent.requests(), metadata=[("authorization", "Bearer " + TOKEN)])
            threading.Thread(target=agent.read, daemon=True).start()
            try:
                error = self.wait_error(agent)
                self.assertIsNotNone(error, fields)
                self.assertEqual(error.code(), grpc.StatusCode.INVALID_ARGUMENT, (fields, error.details()))
            finally:
                agent.close()
        self.assertIsNone(self.box.proc.poll())


if __name__ == "__main__":
    unittest.main()


class SilentAgent(PythonAgent):
    """Takes jobs and does nothing with them (or only says it started them)."""

    def __init__(self, target, agent_id, say_started=False):
        self.say_started = say_started
        super().__init__(target, agent_id=agent_id)

    def read(self):
        try:
            for message in self.responses:
                self.inbox.append(message)
                if message.WhichOneof("kind") == "job" and self.say_started:
                    job = message.job
                    self.outbox.put(agent_pb2.AgentMessage(started=agent_pb2.JobStarted(job_id=job.job_id, attempt=job.attempt)))
        except grpc.RpcError as e:
            self.error = e


class SilentStream(unittest.TestCase):
    """Registered, then not a word with the connection open (a hung host): after agents.lost_after
    the box ends the stream with DEADLINE_EXCEEDED and counts the agent gone. One that heartbeats
    stays. One watch serves every session, so this is also its test."""

    def setUp(self):
        self.config, self.box, self.http, self.grpc = test_interop.start_box({
            "commands.d/hi.yaml": "name: hi\nsummary: Hi\nrun: [/bin/echo, hi]\n",
            "policies.d/p.yaml": test_interop.SRE_POLICY,
            "meeseeks.yaml": "agents: {lost_after: 2s}\n",
        })

    def tearDown(self):
        self.box.stop()

    def connected(self):
        request = urllib.request.Request(self.http + "/api/v1/agents",
                                         headers={"Authorization": "Bearer " + API_TOKEN, "X-Meeseeks-As": "U_SRE"})
        with urllib.request.urlopen(request, timeout=10) as response:
            return {a["id"] for a in json.loads(response.read())["agents"] if a["connected"]}

    def test_a_silent_agent_is_let_go_after_lost_after_and_a_talking_one_stays(self):
        talker = PythonAgent(self.grpc, agent_id="py-talker")
        mute = MuteAgent(self.grpc, "py-mute")
        stop = threading.Event()
        try:
            self.assertEqual(talker.wait("registered").registered.heartbeat_seconds, 1)
            mute.wait("registered")
            started = time.time()

            def beat():
                while not stop.wait(0.5):
                    talker.outbox.put(agent_pb2.AgentMessage(heartbeat=agent_pb2.Heartbeat(busy=0)))
            threading.Thread(target=beat, daemon=True).start()
            self.assertEqual(self.connected(), {"py-talker", "py-mute"})
            # The box ends the silent stream (its status is OK: the agent may dial again).
            self.assertTrue(mute.ended.wait(10), "the silent agent was never let go")
            elapsed = time.time() - started
            self.assertIsNone(mute.error)
            # Silence of more than 2 s, found by a sweep every half second.
            self.assertGreater(elapsed, 1.5)
            self.assertLess(elapsed, 4.5)
            self.assertEqual(self.connected(), {"py-talker"})
            time.sleep(2.5)  # the talker outlives another lost_after
            self.assertIsNone(talker.error)
            self.assertEqual(self.connected(), {"py-talker"})
        finally:
            stop.set()
            talker.close()
            mute.close()


class MuteAgent(SilentAgent):
    """Registers and then says nothing; notes when the box ends its stream."""

    def __init__(self, target, agent_id):
        self.ended = threading.Event()
        super().__init__(target, agent_id)

    def read(self):
        super().read()
        self.ended.set()


class NeverStarted(unittest.TestCase):
    setUpClass = classmethod(test_interop.Interop.setUpClass.__func__)
    tearDownClass = classmethod(test_interop.Interop.tearDownClass.__func__)
    cli = test_interop.Interop.cli

    def job_status(self, job_id):
        import json
        result = self.cli("jobs", "--as", "U_SRE", "--json")
        assert result.returncode == 0, result.stderr
        return {j["id"]: j for j in json.loads(result.stdout)}[job_id]

    def test_a_job_the_agent_never_started_is_queued_again_not_lost(self):
        silent = SilentAgent(self.grpc, "py-flaky")
        silent.wait("registered")
        queued = self.cli("run", "--as", "U_SRE", "--detach", "hi")
        self.assertEqual(queued.returncode, 0, queued.stderr)
        job_id = int(queued.stdout.strip())
        first = silent.wait("job").job
        # The agent goes away without ever saying it started the job, and comes back without it.
        silent.close()
        time.sleep(0.5)
        agent = PythonAgent(self.grpc, agent_id="py-flaky")
        try:
            again = agent.wait("job").job
            self.assertEqual(again.job_id, first.job_id)
            self.assertEqual(again.attempt, first.attempt + 1)
            deadline = time.time() + 10
            while self.job_status(job_id)["status"] != "succeeded" and time.time() < deadline:
                time.sleep(0.1)
            self.assertEqual(self.job_status(job_id)["status"], "succeeded")
        finally:
            agent.close()

    def test_a_job_the_agent_started_and_forgot_is_lost(self):
        silent = SilentAgent(self.grpc, "py-amnesiac", say_started=True)
        silent.wait("registered")
        queued = self.cli("run", "--as", "U_SRE", "--detach", "hi")
        job_id = int(queued.stdout.strip())
        silent.wait("job")
        time.sleep(0.5)
        silent.close()
        time.sleep(0.5)
        back = SilentAgent(self.grpc, "py-amnesiac")
        try:
            back.wait("registered")
            deadline = time.time() + 10
            while self.job_status(job_id)["status"] == "running" and time.time() < deadline:
                time.sleep(0.1)
            job = self.job_status(job_id)
            self.assertEqual(job["status"], "lost")
            self.assertIn("came back without it", job["reason"])
        finally:
            back.close()
