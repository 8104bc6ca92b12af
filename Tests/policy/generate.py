"""Seeded, reproducible random cases for the authorization model check.

A case is a policy (roles, members, grants with command globs and `on` selectors), commands (with
target selectors and optional `channels`), an agent fleet (labels, accepted command globs), the
users to ask about, the user's `-l` selector and the channel of the request. `case(seed)` always
builds the same case; `write_config` turns it into a real configuration directory.

    python3 generate.py SEED [DIR]    # print a case (and write it to DIR)
"""
import json
import os
import random
import sys
from dataclasses import dataclass

from model import Agent, Command, Grant, Policy

# Small universes, so that selectors, globs and members often meet.
LABELS = {
    "env": ["stg", "prd", "dev"],
    "role": ["web", "db", "cache"],
    "zone": ["a", "b"],
    "tier": ["1", "2", "in", ""],  # `in`: a keyword only where an operator is expected; "": an empty value
    "example.com/os": ["linux", "bsd"],
}
COMMAND_NAMES = ["hello", "uptime", "restart", "deploy", "deploy-web", "deploy-db", "db.backup", "db.restore",
                 "cache_flush", "disk-usage", "web-restart", "x"]
ROLE_NAMES = ["admin", "sre", "dev", "ops", "qa", "oncall"]
USERS = ["U01ADMIN00", "U01SRE0001", "U01SRE0002", "U01DEV0001", "U01OPS0001", "U01QA00001", "W01GUEST01"]
STRANGERS = ["U09NOBODY1", "U09NOBODY2"]
HANDLES = ["@rick", "@morty"]
CHANNELS = ["C01OPS", "C02DEV", "C03PRD", "G04PRIV"]


@dataclass
class Case:
    seed: int
    policy: Policy
    commands: list
    fleet: list
    users: list
    request_selector: str
    channel: str
    # How each grant's `on` is written when it means "every agent": absent, `on: ""` or `on: null`.
    on_styles: list
    # How many files under policies.d/: 1, or 2 with roles and grants apart.
    policy_files: int
    # Each command's `target.mode`: it picks among the targets later and must not change them.
    modes: list

    def describe_request(self, user, command):
        """Only what bears on `user` asking for `command`: the user's grants, the command, the fleet."""
        roles = {name for name, members in self.policy.roles.items() if user in members}
        lines = ["seed %d: %s asks for %s, -l %r, channel %r (python3 generate.py %d DIR writes the case)"
                 % (self.seed, user, command.name, self.request_selector, self.channel, self.seed)]
        lines.append("  roles of %s: %s" % (user, sorted(roles)))
        lines += ["  grant roles=%s commands=%s on=%r" % (g.roles, g.commands, g.on)
                  for g in self.policy.grants if roles.intersection(g.roles)]
        lines.append("  command %s selector=%r channels=%s" % (command.name, command.selector, command.channels))
        lines += ["  agent %s labels=%s commands=%s" % (a.id, a.labels, a.commands) for a in self.fleet]
        return "\n".join(lines)

    def describe(self):
        lines = ["seed %d: -l %r, channel %r" % (self.seed, self.request_selector, self.channel)]
        lines += ["  role %s: %s" % (name, members) for name, members in sorted(self.policy.roles.items())]
        lines += ["  grant roles=%s commands=%s on=%r" % (g.roles, g.commands, g.on) for g in self.policy.grants]
        lines += ["  command %s selector=%r channels=%s" % (c.name, c.selector, c.channels) for c in self.commands]
        lines += ["  agent %s labels=%s commands=%s" % (a.id, a.labels, a.commands) for a in self.fleet]
        return "\n".join(lines)


def selector(rng, max_requirements=2):
    """A random valid selector in Kubernetes syntax, with random spacing."""
    parts = []
    for key in rng.sample(sorted(LABELS), rng.randint(1, max_requirements)):
        values = LABELS[key] + (["zz"] if rng.random() < 0.2 else [])  # `zz`: a value no agent has
        pick = rng.sample(values, rng.randint(1, min(3, len(values))))
        sp = rng.choice(["", " "])
        form = rng.choice(["=", "==", "!=", "in", "notin", "exists", "!"])
        if form in ("in", "notin") and "" in pick:  # an empty value is written only after an operator
            form = rng.choice(["=", "==", "!="])
            pick = [""]
        if form in ("=", "==", "!="):
            parts.append("%s%s%s%s%s" % (key, sp, form, sp, pick[0]))
        elif form in ("in", "notin"):
            parts.append("%s %s %s(%s)" % (key, form, sp, ("," + sp).join(pick)))
        elif form == "exists":
            parts.append(key)
        else:
            parts.append("!" + sp + key)
    return rng.choice([",", ", ", " ,"]).join(parts)


def maybe_selector(rng, p_absent):
    return None if rng.random() < p_absent else selector(rng)


def glob(rng, names):
    if rng.random() < 0.2:
        return "*"
    name = rng.choice(names)
    return rng.choice([
        name, name, "*", name[:rng.randint(0, len(name))] + "*", "*" + name[rng.randint(0, len(name)):],
        name[:1] + "*" + name[-1:], "*" + name[1:-1] + "*", "deploy-*", "db.*", "nomatch-*",
    ])


def case(seed):
    rng = random.Random(seed)
    commands = []
    for name in rng.sample(COMMAND_NAMES, rng.randint(3, 8)):
        channels = None
        if rng.random() < 0.3:
            channels = [] if rng.random() < 0.1 else rng.sample(CHANNELS, rng.randint(1, 2))
        commands.append(Command(name, maybe_selector(rng, 0.5), channels))
    names = [c.name for c in commands]

    roles = {}
    for role in rng.sample(ROLE_NAMES, rng.randint(1, 3)):
        members = rng.sample(USERS, 0 if rng.random() < 0.1 else rng.randint(1, 3))
        if rng.random() < 0.15:
            members.append(rng.choice(HANDLES))
        roles[role] = members
    grants = []
    for _ in range(0 if rng.random() < 0.05 else rng.randint(1, 5)):
        grants.append(Grant(roles=rng.sample(sorted(roles), rng.randint(1, min(2, len(roles)))),
                            commands=sorted({glob(rng, names) for _ in range(rng.randint(1, 3))}),
                            on=maybe_selector(rng, 0.4)))

    fleet = []
    for i in range(0 if rng.random() < 0.05 else rng.randint(1, 6)):
        labels = {k: rng.choice(v) for k, v in LABELS.items() if rng.random() < 0.7}
        accepted = ["*"] if rng.random() < 0.5 else sorted({glob(rng, names) for _ in range(rng.randint(0, 2))})
        fleet.append(Agent("agent-%d" % (i + 1), labels, accepted))

    users = sorted({m for ms in roles.values() for m in ms if not m.startswith("@")}
                   | {rng.choice(USERS + STRANGERS)})
    request = "" if rng.random() < 0.6 else selector(rng, 1)
    channel = None if rng.random() < 0.5 else rng.choice(CHANNELS)
    on_styles = [rng.choice(["absent", "empty", "null"]) for _ in grants]
    modes = [rng.choice(["one", "all"]) for _ in commands]
    return Case(seed, Policy(roles, grants), commands, fleet, users, request, channel, on_styles,
                rng.randint(1, 2), modes)


def _q(text):
    return json.dumps(text)  # a JSON string is a valid YAML double-quoted scalar


def write_config(c, directory):
    """Writes `c` as `commands.d/*.yaml`, `policies.d/*.yaml` and `agents.json` under `directory`."""
    os.makedirs(os.path.join(directory, "commands.d"))
    os.makedirs(os.path.join(directory, "policies.d"))
    for command, mode in zip(c.commands, c.modes):
        lines = ["name: %s" % _q(command.name), "summary: Generated for the model check", 'run: ["/bin/true"]']
        if command.selector is not None:
            lines.append("target:\n  selector: %s\n  mode: %s" % (_q(command.selector), mode))
        elif mode == "all":
            lines.append("target: {mode: all}")
        if command.channels is not None:
            lines.append("channels: [%s]" % ", ".join(_q(ch) for ch in command.channels))
        with open(os.path.join(directory, "commands.d", command.name + ".yaml"), "w") as f:
            f.write("\n".join(lines) + "\n")
    roles = ["roles:"] + ["  %s:\n    members: [%s]" % (name, ", ".join(_q(m) for m in members))
                          for name, members in c.policy.roles.items()]
    grant_lines = []
    for grant, style in zip(c.policy.grants, c.on_styles):
        grant_lines.append("  - roles: [%s]" % ", ".join(_q(r) for r in grant.roles))
        grant_lines.append("    commands: [%s]" % ", ".join(_q(p) for p in grant.commands))
        if grant.on is not None:
            grant_lines.append("    on: %s" % _q(grant.on))
        elif style != "absent":
            grant_lines.append('    on: ""' if style == "empty" else "    on:")
    files = {"teams.yaml": roles}
    if grant_lines:
        if c.policy_files == 2:
            files["grants.yaml"] = ["grants:"] + grant_lines
        else:
            files["teams.yaml"] = roles + ["grants:"] + grant_lines
    for name, lines in files.items():
        with open(os.path.join(directory, "policies.d", name), "w") as f:
            f.write("\n".join(lines) + "\n")
    agents = [{"id": a.id, "labels": a.labels, "commands": a.commands} for a in c.fleet]
    with open(os.path.join(directory, "agents.json"), "w") as f:
        json.dump(agents, f, indent=1)


if __name__ == "__main__":
    generated = case(int(sys.argv[1]))
    print(generated.describe())
    if len(sys.argv) > 2:
        write_config(generated, sys.argv[2])
