"""The API as its OpenAPI document describes it, attacked by schemathesis: every operation with
generated, boundary and invalid inputs (and the stateful sequences its links allow) against a live
box, authenticated. No 5xx, no crash, no hang, every answer as documented."""
import json
import os
import subprocess
import sys
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(REPO, "Tests", "slack"))
from harness import API_TOKEN, BoxWithFakeSlack, http  # noqa: E402

SCHEMATHESIS = os.path.join(os.path.dirname(os.environ.get("MEESEEKS_PYTHON") or sys.executable), "schemathesis")


class OpenAPI(BoxWithFakeSlack):
    def test_the_served_document_is_the_committed_one(self):
        status, text, headers = http("GET", self.box.url + "/api/v1/openapi.json")
        self.assertEqual(status, 200)
        with open(os.path.join(REPO, "api", "openapi.json")) as f:
            self.assertEqual(json.loads(text), json.load(f))
        self.assertTrue(text.startswith("{"))

    def test_schemathesis_finds_nothing(self):
        # Every check but one: `positive_data_acceptance` wants every schema-valid request accepted,
        # and the document cannot say which arguments each configured command requires, so a run
        # of `hello` without `who` is rightly a 400.
        argv = [SCHEMATHESIS, "--config-file", os.path.join(HERE, "schemathesis.toml"), "run",
                self.box.url + "/api/v1/openapi.json", "-H", "Authorization: Bearer " + API_TOKEN,
                "--checks", "all", "--exclude-checks", "positive_data_acceptance",
                "--max-examples", os.environ.get("MEESEEKS_SCHEMATHESIS_EXAMPLES", "40"),
                "--seed", os.environ.get("MEESEEKS_SCHEMATHESIS_SEED", "20261203"),
                "--workers", "2", "--no-color", "--generation-database", "none"]
        result = subprocess.run(argv, capture_output=True, text=True, timeout=900, cwd=HERE)
        summary = result.stdout[result.stdout.find("SUMMARY"):] if "SUMMARY" in result.stdout else result.stdout[-4000:]
        self.assertEqual(result.returncode, 0, result.stdout[-12000:] + result.stderr[-2000:])
        self.assertIn("Tested: 18", summary)
        # The box is still up and answering.
        self.assertEqual(http("GET", self.box.url + "/healthz")[0], 200)


if __name__ == "__main__":
    unittest.main()
