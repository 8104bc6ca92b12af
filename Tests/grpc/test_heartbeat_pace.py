"""A big fleet is asked for rarer heartbeats, and dead peers are found by the kernel's TCP
keepalive instead: the box turns keepalive on for every agent connection, tells a newcomer to a
fleet of hundreds a longer interval than a third of lost_after, slows down the agents that
registered while the fleet was small, keeps those that beat at the slower pace, and still lets go
of one that falls silent for three of its intervals."""
import os
import re
import subprocess
import threading
import time
import unittest

import test_interop
from test_hostile_agent import MuteAgent
from test_interop import BIN, TOKEN, PythonAgent, Spawned, agent_pb2

SWARM = os.path.join(BIN, "meeseeks-swarm")


def pace(agent):
    """The interval the box last asked `agent` for (Registered, then any Pace)."""
    seconds = None
    for message in list(agent.inbox):
        kind = message.WhichOneof("kind")
        if kind == "registered":
            seconds = message.registered.heartbeat_seconds
        elif kind == "pace":
            seconds = message.pace.heartbeat_seconds
    return seconds


def beat(agent, stop):
    """Heartbeats at the pace the box asks for, as mrmeeseeks does."""
    while not stop.wait(pace(agent) or 1):
        agent.outbox.put(agent_pb2.AgentMessage(heartbeat=agent_pb2.Heartbeat(busy=0)))


class HeartbeatPace(unittest.TestCase):
    def setUp(self):
        self.config, self.box, self.http, self.grpc = test_interop.start_box({
            "commands.d/hi.yaml": "name: hi\nsummary: Hi\nrun: [/bin/echo, hi]\n",
            "policies.d/p.yaml": test_interop.SRE_POLICY,
            "meeseeks.yaml": "agents: {lost_after: 3s}\n",
        })
        self.addCleanup(self.box.stop)
        self.stop = threading.Event()
        self.addCleanup(self.stop.set)

    def agent(self, cls, agent_id):
        agent = cls(self.grpc, agent_id=agent_id)
        self.addCleanup(agent.close)
        agent.wait("registered")
        return agent

    def metric(self, name):
        return test_interop.Interop.metric(self, name)

    def test_every_agent_connection_has_the_kernels_keepalive(self):
        self.agent(PythonAgent, "py-keepalive")
        port = self.grpc.rsplit(":", 1)[1]
        deadline = time.time() + 5
        while True:
            # The box's end of the connection (its source port is the listener's). Its timer shows
            # `on` while data awaits an acknowledgement, then `keepalive`.
            sockets = subprocess.run(["ss", "-tnoH", "state", "established", "( sport = :%s )" % port],
                                     capture_output=True, text=True, check=True).stdout
            timers = re.findall(r"timer:\(keepalive,([\d.]+)(m?s)", sockets)
            if timers or time.time() > deadline:
                break
            time.sleep(0.1)
        self.assertEqual(len(timers), 1, sockets)
        seconds = float(timers[0][0]) / (1000 if timers[0][1] == "ms" else 1)
        self.assertLessEqual(seconds, 1.0)  # idle time: a third of lost_after

    def test_a_growing_fleet_is_asked_for_rarer_heartbeats_and_a_silent_agent_is_still_let_go(self):
        early = self.agent(PythonAgent, "py-early")
        self.assertEqual(pace(early), 1)  # a fleet of one: a third of lost_after
        threading.Thread(target=beat, args=(early, self.stop), daemon=True).start()

        swarm = Spawned([SWARM, "--box", self.grpc, "--prefix", "swarm", "--first", "0", "--count", "150"],
                        env=dict(os.environ, MEESEEKS_AGENT_TOKEN=TOKEN))
        self.addCleanup(swarm.stop)
        deadline = time.time() + 60
        while self.metric("meeseeks_agents_connected") < 151:
            self.assertLess(time.time(), deadline, "the swarm did not connect")
            time.sleep(0.2)

        # 151 agents, at most 40 heartbeats a second: every 4 s. The early agent is told so.
        deadline = time.time() + 10
        while pace(early) != 4:
            self.assertLess(time.time(), deadline, "the early agent was not re-paced: %s" % pace(early))
            time.sleep(0.1)
        self.assertGreaterEqual(self.metric("meeseeks_agent_heartbeat_interval_seconds"), 3)

        # A newcomer is told the slow pace at once; silent, it is kept past lost_after, then let go.
        mute = self.agent(MuteAgent, "py-mute")
        self.assertEqual(pace(mute), 4)
        started = time.time()
        self.assertFalse(mute.ended.wait(6), "let go after lost_after (3 s) though asked to beat every 4 s")
        self.assertTrue(mute.ended.wait(12), "the silent agent was never let go")
        elapsed = time.time() - started
        self.assertGreater(elapsed, 11)  # three missed heartbeats of 4 s
        self.assertLess(elapsed, 14)

        # The early agent beats every 4 s, longer than lost_after, and is still there.
        self.assertIsNone(early.error)
        self.assertIsNone(swarm.proc.poll(), "the swarm stopped")
        self.assertEqual(self.metric("meeseeks_agents_connected"), 151)


if __name__ == "__main__":
    unittest.main()
