"""The soak's CI version: a minute of 1,000 signed Slack interactions/s plus 5 jobs/s through two
remote agents. Zero failed requests, zero lost jobs, memory and open files flat (the 10-minute run
is `scripts/soak`, its figures in RELIABILITY.md)."""
import os
import sys
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(HERE)), "Benchmarks"))
from soak import soak  # noqa: E402


class Soak(unittest.TestCase):
    def test_a_minute_under_load_loses_nothing_and_grows_nothing(self):
        seconds = int(os.environ.get("MEESEEKS_SOAK_SECONDS", "60"))
        text, problems = soak(seconds, rate=1000, jobs_rate=5, agents=2)
        print("\n" + text)
        self.assertEqual(problems, [], text)


if __name__ == "__main__":
    unittest.main()
