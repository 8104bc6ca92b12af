"""Live progress: a running job's message is edited in place every few seconds with the time it
has run and the end of its output, then with how it ended; the result follows as before."""
import re
import unittest

from harness import POLICY, Box, Fake, blocks_of, check_blocks, config_dir, text_of

CHANNEL = "C0PROG"

SLOW = r"""name: slow
summary: Twenty seconds of lines
run: [/bin/sh, -c, "for i in $(seq 1 20); do echo line $i; sleep 1; done"]
timeout: 1m
"""


class LiveProgress(unittest.TestCase):
    def setUp(self):
        self.fake = Fake()
        self.box = Box(config_dir({"commands.d/slow.yaml": SLOW, "policies.d/p.yaml": POLICY}), self.fake)

    def tearDown(self):
        self.box.stop()
        self.fake.stop()

    def test_a_twenty_second_job_shows_its_progress_in_order(self):
        event = {"type": "app_mention", "user": "U_SRE", "text": "<@UBOT> slow", "ts": "9.1", "channel": CHANNEL}
        self.assertEqual(self.box.event(event)[0], 200)
        self.fake.wait_calls(lambda calls: any(c["method"] == "chat.postMessage" and c.get("ok") and "All done" in text_of(c) for c in calls),
                             timeout=60, what="the result")
        calls = [c for c in self.fake.control("calls") if c.get("ok")]
        edits = [c for c in calls if c["method"] == "chat.update" and "has been running for" in text_of(c)]
        self.assertGreaterEqual(len(edits), 3, [text_of(c)[:200] for c in edits])
        for edit in edits:
            check_blocks(blocks_of(edit))
        # In order: the time run and the last line printed only grow.
        seconds = [int(re.search(r"running for (\d+)s", text_of(c)).group(1)) for c in edits if re.search(r"running for (\d+)s", text_of(c))]
        self.assertEqual(seconds, sorted(seconds))
        self.assertGreater(seconds[-1], seconds[0])
        last_lines = [max(int(n) for n in re.findall(r"line (\d+)", text_of(c))) for c in edits if "line " in text_of(c)]
        self.assertEqual(last_lines, sorted(last_lines))
        self.assertGreaterEqual(len(set(last_lines)), 3)
        # The same message throughout (edited in place), and its last edit says how it ended.
        self.assertEqual(len({c["args"]["ts"] for c in edits}), 1)
        updates = [c for c in calls if c["method"] == "chat.update" and c["args"]["ts"] == edits[0]["args"]["ts"]]
        self.assertIn("succeeded after", text_of(updates[-1]))
        # The result is posted after the last progress edit.
        result = next(i for i, c in enumerate(calls) if c["method"] == "chat.postMessage" and "All done" in text_of(c))
        self.assertGreater(result, calls.index(edits[-1]))


if __name__ == "__main__":
    unittest.main()
