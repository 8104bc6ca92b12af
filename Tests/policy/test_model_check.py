"""The authorization model check: the box's policy engine against an independent model of the rules.

Each generated case (generate.py) is written as a real configuration directory, the built
`meeseeks policy explain --json` answers for every user and command at once, and every decision is
compared with model.py: allowed or not, the exact set of target agents, and the refusal's reason.

    MEESEEKS_MODEL_CASES=3000 MEESEEKS_MODEL_SEED=7 ../../.venv/bin/python -m unittest test_model_check   # more, other seeds
"""
import json
import os
import subprocess
import sys
import tempfile
import unittest
from concurrent.futures import ThreadPoolExecutor

import generate
import model

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BIN = os.environ.get("MEESEEKS_BIN_DIR", os.path.join(REPO, ".build", "debug"))
CASES = int(os.environ.get("MEESEEKS_MODEL_CASES", "600"))
SEED = int(os.environ.get("MEESEEKS_MODEL_SEED", "20250613"))
WORKERS = int(os.environ.get("MEESEEKS_MODEL_WORKERS", "2"))
REASONS = ["no_role", "no_grant", "wrong_channel", "no_agent_matches_grant", "no_agent_matches_command",
           "no_agent_matches_request", "no_agent_accepts_command"]


def explain(case, directory):
    """What the box answers for `case`, written under `directory`."""
    generate.write_config(case, directory)
    argv = [os.path.join(BIN, "meeseeks"), "policy", "explain", "--config", directory, "--json",
            "--agents", os.path.join(directory, "agents.json")]
    for user in case.users:
        argv += ["--user", user]
    if case.request_selector:
        argv += ["--selector", case.request_selector]
    if case.channel is not None:
        argv += ["--channel", case.channel]
    done = subprocess.run(argv, capture_output=True, text=True, timeout=60)
    if done.returncode != 0:
        raise AssertionError("seed %d: %s exited %d\n%s\n%s" % (
            case.seed, " ".join(argv), done.returncode, done.stderr, case.describe()))
    return json.loads(done.stdout)


def compare(case, report):
    """Every difference between the box's report and the model, as text naming the seed."""
    problems = []
    fleet_ids = sorted(a.id for a in case.fleet)
    if report["agents"] != fleet_ids:
        problems.append("seed %d: fleet: box %s, model %s" % (case.seed, report["agents"], fleet_ids))
    for entry in report["users"]:
        roles, admin = model.roles_of(case.policy, entry["user"]), model.is_admin(case.policy, entry["user"])
        if entry["roles"] != roles or entry["admin"] != admin:
            problems.append("seed %d: %s: box roles %s admin %s, model roles %s admin %s" % (
                case.seed, entry["user"], entry["roles"], entry["admin"], roles, admin))
    by_pair = {(d["user"], d["command"]): d for d in report["decisions"]}
    expected_pairs = {(u, c.name) for u in case.users for c in case.commands}
    if set(by_pair) != expected_pairs:
        problems.append("seed %d: pairs: box %d, model %d" % (case.seed, len(by_pair), len(expected_pairs)))
    for user in case.users:
        for command in case.commands:
            box = by_pair.get((user, command.name))
            if box is None:
                continue
            want = model.decide(case.policy, command, user, case.fleet, case.request_selector, case.channel)
            got = model.Decision(box["allowed"], tuple(box["targets"]), box.get("reason"))
            if got != want:
                problems.append("%s\n  box: %s (%s)\n  model: %s" % (
                    case.describe_request(user, command), _show(got), box.get("message", ""), _show(want)))
    return problems


def _show(decision):
    return "allowed on %s" % list(decision.targets) if decision.allowed else "refused %s" % decision.reason


def check(seed):
    """(decisions compared, mismatch report or None, the model's decisions) for one seed."""
    case = generate.case(seed)
    with tempfile.TemporaryDirectory(prefix="meeseeks-model-") as directory:
        report = explain(case, directory)
    problems = compare(case, report)
    decisions = [model.decide(case.policy, c, u, case.fleet, case.request_selector, case.channel)
                 for u in case.users for c in case.commands]
    text = "\n".join("MISMATCH " + p for p in problems) or None
    return len(report["decisions"]), text, decisions


class ModelSelectors(unittest.TestCase):
    """The model's own selector parser and matcher, on Kubernetes' examples."""

    def test_matching(self):
        labels = {"env": "prd", "role": "web", "tier": "in"}
        for text, matches in [
            ("", True), ("env=prd", True), ("env==prd", True), ("env!=prd", False), ("zone!=a", True),
            ("env in (stg,prd)", True), ("env notin (stg, prd)", False), ("zone notin (a)", True),
            ("zone in (a)", False), ("role", True), ("zone", False), ("!zone", True), ("!role", False),
            ("env=prd,role=db", False), ("env = prd , role in ( web )", True), ("tier in (in)", True),
            ("tier=in", True),
        ]:
            self.assertEqual(model.parse_selector(text).matches(labels), matches, text)

    def test_rejects_bad_syntax(self):
        for text in ["env=prd,", "env in (a,", "x==a==b", "!x=a", "env in ()", "=a", "a b", "-a=b", "a=-b"]:
            with self.assertRaises(model.SelectorSyntaxError, msg=text):
                model.parse_selector(text)

    def test_globs(self):
        for pattern, name, matches in [("*", "x", True), ("deploy-*", "deploy-web", True), ("deploy-*", "deploy", False),
                                       ("d*y", "deploy", True), ("db.*", "db.backup", True), ("db.*", "dbxbackup", False),
                                       ("*", "", True), ("x", "xx", False)]:
            self.assertEqual(model.glob_matches(pattern, name), matches, (pattern, name))


class ModelCheck(unittest.TestCase):
    def test_engine_agrees_with_model(self):
        seeds = range(SEED, SEED + CASES)
        with ThreadPoolExecutor(max_workers=WORKERS) as pool:
            results = list(pool.map(check, seeds))
        compared = sum(n for n, _, _ in results)
        mismatches = [text for _, text, _ in results if text]
        outcomes = {d.reason or "allowed" for _, _, decisions in results for d in decisions}
        print("\nmodel check: seeds %d..%d, %d cases, %d decisions compared, %d cases with mismatches"
              % (SEED, SEED + CASES - 1, CASES, compared, len(mismatches)), file=sys.stderr)
        for text in mismatches[:10]:
            print(text, file=sys.stderr)
        self.assertEqual(len(mismatches), 0, "%d of %d cases disagree with the model (first seeds above)" % (
            len(mismatches), CASES))
        if CASES >= 100:  # a generator that never reaches an outcome proves nothing about it
            self.assertEqual(sorted(set(REASONS + ["allowed"]) - outcomes), [])


if __name__ == "__main__":
    unittest.main()
