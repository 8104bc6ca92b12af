"""`meeseeks schema` describes exactly what the linter accepts: the shipped examples validate, and
keys the linter rejects are rejected by the schema too (checked with jsonschema and PyYAML)."""
import glob
import json
import os
import re
import subprocess
import unittest

import jsonschema
import yaml

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BIN = os.environ.get("MEESEEKS_BIN_DIR", os.path.join(REPO, ".build", "debug"))


class YAML12Loader(yaml.SafeLoader):
    """PyYAML speaks YAML 1.1, where `on` is a boolean; the box reads YAML 1.2's core schema."""


YAML12Loader.yaml_implicit_resolvers = {
    key: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:bool"]
    for key, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
YAML12Loader.add_implicit_resolver("tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF"))


def load(f):
    return yaml.load(f, Loader=YAML12Loader)


def schema(kind):
    out = subprocess.run([os.path.join(BIN, "meeseeks"), "schema", kind], capture_output=True, text=True, check=True).stdout
    document = json.loads(out)
    jsonschema.Draft7Validator.check_schema(document)
    return jsonschema.Draft7Validator(document)


class Schema(unittest.TestCase):
    def test_shipped_examples_validate(self):
        command, policy = schema("command"), schema("policy")
        for path in glob.glob(os.path.join(REPO, "commands.d", "*.yaml")):
            with open(path) as f:
                self.assertEqual([e.message for e in command.iter_errors(load(f))], [], path)
        for path in glob.glob(os.path.join(REPO, "policies.d", "*.yaml")):
            with open(path) as f:
                self.assertEqual([e.message for e in policy.iter_errors(load(f))], [], path)

    def test_mistakes_are_caught(self):
        command = schema("command")
        good = {"name": "a", "summary": "x", "run": ["/bin/true"]}
        self.assertTrue(command.is_valid(good))
        for bad in [dict(good, sumary="typo"), {"name": "a", "run": ["/bin/true"]}, dict(good, script="#!/bin/sh\n"),
                    dict(good, summary="x" * 76), dict(good, target={"mode": "some"}),
                    dict(good, args=[{"name": "x", "type": "float"}]), dict(good, concurrency=0)]:
            self.assertFalse(command.is_valid(bad), bad)
        self.assertTrue(schema("settings").is_valid({"history": {"retention": "30d"}, "agents": {"lost_after": "15s"}}))
        self.assertFalse(schema("settings").is_valid({"history": {"retention": "soon"}}))


if __name__ == "__main__":
    unittest.main()
