import sys, time, json, threading
import test_failover as t
from cluster import ClusterBox, agent
class D(t.Failover):
    def test_x(self):
        a = ClusterBox("a", self.config, self.db, self.fake.url)
        t.wait_for(lambda: a.role() == "leader", "lead")
        self.boxes=[a]
        for name in ("one", "two"):
            s = agent(name, self.boxes); s.wait_line("connected to the box", stream="err"); self.agents.append(s)
        load = t.Load([a]); time.sleep(6); load.stop()
        ack = {tag for _, _, tag, status, _ in load.answered("slack") if status == 200}
        for i in range(15):
            tags = {tag for _, _, tag in self.jobs()}
            print(i, "acked", len(ack), "missing", sorted(ack - tags), flush=True)
            if not (ack - tags): break
            time.sleep(1)
import unittest
unittest.main(argv=[sys.argv[0]], defaultTest="D.test_x")
