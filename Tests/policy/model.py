"""An independent reference model of Meeseeks Box's authorization rules.

Written from the README's "Configuration" section and SPEC section 4, not from the Swift engine:

- Default deny. A user's roles are the roles that list the user's ID among their members (an
  `@handle` member names nobody until Slack resolves it, which `policy explain` never does).
- A grant applies to a request when one of its roles is one of the user's and one of its command
  globs matches the command's name; its `on` selector (everything when absent) says which agents
  it allows.
- A command restricted by `channels:` may only be requested in one of those channels; a request
  made outside any channel is not in an allowed channel.
- The targets of a request are the agents allowed by the applicable grants, matched by the
  command's `target.selector`, by the user's `-l` selector, and accepting the command (the
  agent's `--commands` globs). No target: refused, with the reason.
- The `admin` role may also use the administrative built-ins; it grants no command by itself.

Checks run in this order, and the first that fails names the refusal (`Refusal.reason`):
no_role, no_grant, wrong_channel, no_agent_matches_grant, no_agent_matches_command,
no_agent_matches_request, no_agent_accepts_command.

Label selectors follow Kubernetes' `apimachinery/pkg/labels` syntax and semantics: `k=v`, `k==v`,
`k!=v`, `k in (a,b)`, `k notin (a,b)`, `k`, `!k`; a comma means AND; `!=` and `notin` match agents
without the key; the empty selector matches everything.
"""
import re
from dataclasses import dataclass, field

ADMIN_ROLE = "admin"

# --- label selectors -------------------------------------------------------------------------------

_SPECIAL = "!=(),"


class SelectorSyntaxError(ValueError):
    pass


@dataclass(frozen=True)
class Requirement:
    key: str
    op: str  # "=", "!=", "in", "notin", "exists", "!"
    values: tuple = ()

    def matches(self, labels):
        present = self.key in labels
        if self.op in ("=", "in"):
            return present and labels[self.key] in self.values
        if self.op in ("!=", "notin"):
            return not present or labels[self.key] not in self.values
        if self.op == "exists":
            return present
        if self.op == "!":
            return not present
        raise AssertionError(self.op)

    def __str__(self):
        if self.op == "exists":
            return self.key
        if self.op == "!":
            return "!" + self.key
        if self.op in ("in", "notin"):
            return "%s %s (%s)" % (self.key, self.op, ",".join(sorted(self.values)))
        return "%s%s%s" % (self.key, self.op, self.values[0])


@dataclass(frozen=True)
class Selector:
    requirements: tuple = ()

    def matches(self, labels):
        return all(r.matches(labels) for r in self.requirements)

    def __str__(self):
        return ",".join(str(r) for r in self.requirements)


EVERYTHING = Selector()


def _tokens(text):
    """Kubernetes' lexer: `!`, `=`, `==`, `!=`, `(`, `)`, `,`, and identifiers (runs of anything else)."""
    i, out = 0, []
    while i < len(text):
        c = text[i]
        if c.isspace():
            i += 1
        elif text.startswith("==", i) or text.startswith("!=", i):
            out.append(text[i:i + 2])
            i += 2
        elif c in _SPECIAL:
            out.append(c)
            i += 1
        else:
            j = i
            while j < len(text) and not text[j].isspace() and text[j] not in _SPECIAL:
                j += 1
            out.append(("id", text[i:j]))
            i = j
    return out


_KEY = re.compile(r"^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$")
_VALUE = re.compile(r"^([A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?)?$")


def parse_selector(text):
    """Parses a selector; raises SelectorSyntaxError. Grammar (Kubernetes `labels.Parse`):

        selector    ::= "" | requirement ("," requirement)*
        requirement ::= "!" KEY | KEY [ ("in" | "notin") "(" VALUE ("," VALUE)* ")" | ("=" | "==" | "!=") VALUE ]
    """
    toks = _tokens(text or "")
    if not toks:
        return EVERYTHING
    pos = 0

    def peek():
        return toks[pos] if pos < len(toks) else None

    def take():
        nonlocal pos
        tok = peek()
        pos += 1
        return tok

    def ident(what):
        tok = take()
        if not isinstance(tok, tuple):
            raise SelectorSyntaxError("found %r, expected: %s" % (tok, what))
        return tok[1]

    def key():
        k = ident("identifier")
        if not _KEY.match(k) or len(k.split("/")[-1]) > 63:
            raise SelectorSyntaxError("invalid key %r" % k)
        return k

    def value(v):
        if not _VALUE.match(v) or len(v) > 63:
            raise SelectorSyntaxError("invalid value %r" % v)
        return v

    requirements = []
    while True:
        if peek() == "!":
            take()
            requirements.append(Requirement(key(), "!"))
        else:
            k = key()
            tok = peek()
            if tok is None or tok == ",":
                requirements.append(Requirement(k, "exists"))
            elif tok in ("=", "==", "!="):
                take()
                nxt = peek()
                v = "" if nxt is None or nxt == "," else ident("identifier")
                requirements.append(Requirement(k, "!=" if tok == "!=" else "=", (value(v),)))
            elif tok in (("id", "in"), ("id", "notin")):
                take()
                if take() != "(":
                    raise SelectorSyntaxError("expected '('")
                values = [value(ident("identifier"))]
                while peek() == ",":
                    take()
                    values.append(value(ident("identifier")))
                if take() != ")":
                    raise SelectorSyntaxError("expected ')'")
                requirements.append(Requirement(k, tok[1], tuple(values)))
            else:
                raise SelectorSyntaxError("found %r after key %r" % (tok, k))
        tok = take()
        if tok is None:
            return Selector(tuple(requirements))
        if tok != ",":
            raise SelectorSyntaxError("found %r, expected: ',' or end of string" % (tok,))


# --- globs -----------------------------------------------------------------------------------------

def glob_matches(pattern, name):
    """Command globs: `*` is any run of characters (possibly empty); everything else is literal."""
    return re.fullmatch(".*".join(re.escape(part) for part in pattern.split("*")), name, re.S) is not None


# --- policy ----------------------------------------------------------------------------------------

@dataclass
class Grant:
    roles: list
    commands: list
    on: str = None  # None: the key is absent (every agent)


@dataclass
class Command:
    name: str
    selector: str = None  # target.selector; None: absent (every agent)
    channels: list = None  # None: requested anywhere


@dataclass
class Agent:
    id: str
    labels: dict
    commands: list = field(default_factory=lambda: ["*"])


@dataclass
class Policy:
    roles: dict  # role name -> list of members
    grants: list


@dataclass(frozen=True)
class Decision:
    allowed: bool
    targets: tuple = ()
    reason: str = None


def roles_of(policy, user):
    return sorted(name for name, members in policy.roles.items() if user in members)


def is_admin(policy, user):
    return ADMIN_ROLE in roles_of(policy, user)


def decide(policy, command, user, fleet, request_selector="", channel=None):
    """The decision for `user` requesting `command` with `-l request_selector` in `channel` (None: no channel)."""
    roles = set(roles_of(policy, user))
    if not roles:
        return Decision(False, reason="no_role")
    grants = [g for g in policy.grants
              if roles.intersection(g.roles) and any(glob_matches(p, command.name) for p in g.commands)]
    if not grants:
        return Decision(False, reason="no_grant")
    if command.channels is not None and channel not in command.channels:
        return Decision(False, reason="wrong_channel")
    ons = [parse_selector(g.on) for g in grants]
    agents = [a for a in fleet if any(s.matches(a.labels) for s in ons)]
    if not agents:
        return Decision(False, reason="no_agent_matches_grant")
    target = parse_selector(command.selector)
    agents = [a for a in agents if target.matches(a.labels)]
    if not agents:
        return Decision(False, reason="no_agent_matches_command")
    requested = parse_selector(request_selector)
    agents = [a for a in agents if requested.matches(a.labels)]
    if not agents:
        return Decision(False, reason="no_agent_matches_request")
    agents = [a for a in agents if any(glob_matches(p, command.name) for p in a.commands)]
    if not agents:
        return Decision(False, reason="no_agent_accepts_command")
    return Decision(True, targets=tuple(sorted(a.id for a in agents)))
