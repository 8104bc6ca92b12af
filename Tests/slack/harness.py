"""Shared helpers for the Slack tests: processes, the fake, signed requests."""
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import unittest
import urllib.error
import urllib.parse
import urllib.request

from slack_sdk.models.blocks import Block
from slack_sdk.models.views import View
from slack_sdk.signature import SignatureVerifier

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
BIN = os.environ.get("MEESEEKS_BIN_DIR", os.path.join(REPO, ".build", "debug"))
SECRET = "8f742231b10e8888abcd99yyyzzz85a5"
API_TOKEN = "slack-e2e-token"


class Spawned:
    """A child process whose output lines are collected."""

    def __init__(self, argv, env=None):
        self.proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, text=True)
        self.out, self.err = [], []
        threading.Thread(target=self._pump, args=(self.proc.stdout, self.out), daemon=True).start()
        threading.Thread(target=self._pump, args=(self.proc.stderr, self.err), daemon=True).start()

    @staticmethod
    def _pump(stream, lines):
        for line in stream:
            lines.append(line)

    def wait_line(self, needle, timeout=30, stream="out"):
        deadline = time.time() + timeout
        while time.time() < deadline:
            for line in (self.out if stream == "out" else self.err):
                if needle in line:
                    return line
            if self.proc.poll() is not None:
                break
            time.sleep(0.02)
        raise AssertionError("no line with %r; stdout=%s stderr=%s" % (needle, "".join(self.out), "".join(self.err)[-3000:]))

    def stop(self, sig=signal.SIGTERM):
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def http(method, url, body=None, headers=None, timeout=10):
    data = body if isinstance(body, (bytes, type(None))) else json.dumps(body).encode()
    req = urllib.request.Request(url, data=data, method=method, headers=headers or {})
    if body is not None and not isinstance(body, bytes):
        req.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            return resp.status, resp.read().decode(), dict(resp.headers)
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode(), dict(e.headers)


class Fake:
    """The fake Slack in a process of its own."""

    def __init__(self, port=0):
        self.spawned = Spawned([sys.executable, os.path.join(HERE, "fake_slack.py"), "--port", str(port)])
        line = self.spawned.wait_line("fake slack listening on")
        self.port = int(line.split()[-1])
        self.url = "http://127.0.0.1:%d" % self.port

    def control(self, action, body=None):
        status, text, _ = http("POST", "%s/_fake/%s" % (self.url, action), body or {})
        assert status == 200, text
        return json.loads(text)

    def file(self, file_id):
        """The bytes of an uploaded file, exactly as the fake received them."""
        url = "%s/_fake/file?%s" % (self.url, urllib.parse.urlencode({"id": file_id}))
        with urllib.request.urlopen(url, timeout=30) as resp:
            return resp.read()

    def files(self):
        """Uploads by file id: name, title, length, completed, channel, thread_ts (no bytes)."""
        return self.control("state")["files"]

    def calls(self, method=None, ok=True):
        calls = self.control("calls")
        return [c for c in calls if (method is None or c["method"] == method) and (not ok or c.get("ok"))]

    def wait_calls(self, predicate, timeout=30, what="calls"):
        deadline = time.time() + timeout
        while time.time() < deadline:
            calls = self.control("calls")
            if predicate(calls):
                return calls
            time.sleep(0.05)
        raise AssertionError("timed out waiting for %s; calls: %s" % (what, json.dumps(self.control("calls"))[-4000:]))

    def stop(self):
        self.spawned.stop()


class Proxy:
    """A TCP relay (in front of PostgreSQL, or of a box's gRPC listener). `cut()` makes it a
    black hole: what is behind it is lost to those in front while everything else keeps it;
    `restore()` lets new connections through again."""

    def __init__(self, target_port):
        self.target = ("127.0.0.1", target_port)
        self.listener = socket.socket()
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(64)
        self.port = self.listener.getsockname()[1]
        self.open = []
        self.lock = threading.Lock()
        self.is_cut = False
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            with self.lock:
                if self.is_cut:
                    self.open.append(client)  # held open, never answered: a black hole
                    continue
                upstream = socket.create_connection(self.target)
                self.open += [client, upstream]
            threading.Thread(target=self._pipe, args=(client, upstream), daemon=True).start()
            threading.Thread(target=self._pipe, args=(upstream, client), daemon=True).start()

    def _pipe(self, source, sink):
        try:
            while True:
                data = source.recv(65536)
                if not data:
                    break
                if not self.is_cut:  # cut: what is sent is lost, nothing comes back
                    sink.sendall(data)
        except OSError:
            pass
        for s in (source, sink):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def cut(self):
        """Like a pulled cable: nothing gets through either way, and nothing says so (no FIN, no
        reset): statements hang until their own timeouts."""
        with self.lock:
            self.is_cut = True

    def restore(self):
        """The cable plugged back in: connections made during the cut are dropped (as a peer
        that timed out would drop them) and new ones get through."""
        with self.lock:
            self.is_cut = False
            held, self.open = self.open, []
        for s in held:
            try:
                s.shutdown(socket.SHUT_RDWR)
                s.close()
            except OSError:
                pass

    def close(self):
        with self.lock:
            self.is_cut = True
            for s in self.open:
                try:
                    s.shutdown(socket.SHUT_RDWR)
                    s.close()
                except OSError:
                    pass
            self.open = []
        self.listener.close()


class Box:
    """`meeseeks serve` pointed at the fake."""

    def __init__(self, config_dir, fake, socket_mode=False, db=None, extra_env=None, extra_args=()):
        env = dict(os.environ)
        env.update({"SLACK_API_URL": fake.url + "/api/", "SLACK_BOT_TOKEN": "xoxb-test", "SLACK_SIGNING_SECRET": SECRET,
                    "MEESEEKS_API_TOKEN": API_TOKEN})
        env.pop("SLACK_APP_TOKEN", None)
        if socket_mode:
            env["SLACK_APP_TOKEN"] = "xapp-test"
        env.update(extra_env or {})
        argv = [os.path.join(BIN, "meeseeks"), "serve", "--config", config_dir, "--http", "127.0.0.1:0",
                "--grpc", "127.0.0.1:0"]
        if db:
            argv += ["--db", db]
        argv += list(extra_args)
        self.spawned = Spawned(argv, env=env)
        line = self.spawned.wait_line("http listening on")
        self.url = "http://" + line.split()[-1]

    def signed(self, path, body, content_type, timestamp=None, secret=SECRET, headers=None):
        ts = str(int(time.time()) if timestamp is None else timestamp)
        signature = SignatureVerifier(secret).generate_signature(timestamp=ts, body=body)
        h = {"X-Slack-Request-Timestamp": ts, "X-Slack-Signature": signature, "Content-Type": content_type}
        h.update(headers or {})
        return http("POST", self.url + path, body.encode() if isinstance(body, str) else body, h)

    def event(self, event, event_id=None, headers=None):
        envelope = {"token": "x", "team_id": "T0FAKE", "api_app_id": "A0FAKE", "type": "event_callback",
                    "event": event, "event_id": event_id or "Ev%d" % (time.time() * 1e6), "event_time": int(time.time())}
        return self.signed("/slack/events", json.dumps(envelope), "application/json", headers=headers)

    def interact(self, payload):
        body = urllib.parse.urlencode({"payload": json.dumps(payload)})
        return self.signed("/slack/interactivity", body, "application/x-www-form-urlencoded")

    def stop(self, sig=signal.SIGTERM):
        self.spawned.stop(sig)


def config_dir(files):
    path = tempfile.mkdtemp(prefix="meeseeks-slack-")
    for name, text in files.items():
        full = os.path.join(path, name)
        os.makedirs(os.path.dirname(full), exist_ok=True)
        with open(full, "w") as f:
            f.write(text)
    return path



def enroll(user, secrets):
    """`meeseeks 2fa enroll` into `secrets`; the user's authenticator, as pyotp reads the URI."""
    import pyotp
    result = subprocess.run([os.path.join(BIN, "meeseeks"), "2fa", "enroll", user, "--secrets", secrets],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    return pyotp.parse_uri(result.stdout.strip())

POLICY = """roles:
  admin: {members: [U_ADMIN]}
  sre: {members: [U_SRE]}
  dev: {members: [U_DEV]}
grants:
  - {roles: [sre, admin], commands: ["*"]}
  - {roles: [dev], commands: [hello]}
"""

HELLO = """name: hello
summary: Say hello
run: ["/bin/echo", "Hello, {{who}}!"]
args:
  - name: who
    prompt: Who?
    choices: [world, Rick]
confirm: "Greet {{who}} on {{targets}}?"
"""


class BoxWithFakeSlack(unittest.TestCase):
    """A box serving `hello` with the standard policy, against its own fake Slack, per test class."""
    files = None

    @classmethod
    def setUpClass(cls):
        cls.fake = Fake()
        cls.config = config_dir(cls.files or {"commands.d/hello.yaml": HELLO, "policies.d/p.yaml": POLICY})
        cls.box = Box(cls.config, cls.fake)

    @classmethod
    def tearDownClass(cls):
        cls.box.stop()
        cls.fake.stop()


def check_blocks(blocks, surface="message"):
    """Every block must pass slack_sdk's own model (and not be dropped as unknown)."""
    limit = 50 if surface == "message" else 100
    assert len(blocks) <= limit, "%d blocks" % len(blocks)
    for block in blocks:
        parsed = Block.parse(block)
        assert parsed is not None, "slack_sdk does not know this block: %s" % block
        parsed.to_dict()  # raises SlackObjectFormationError on a broken limit


def check_view(view):
    View(**view).to_dict()
    check_blocks(view.get("blocks", []), surface="modal")


SRE_POLICY = """roles:
  sre: {members: [U_SRE]}
grants:
  - {roles: [sre], commands: ["*"]}
"""

ECHO = """name: echo
summary: Say something back
run: ["/bin/echo", "said {{word}}"]
args:
  - {name: word, pattern: '^[a-z0-9]+$'}
"""


def text_of(call):
    """What a Slack call shows: its blocks and its text, as one string to search."""
    return json.dumps(blocks_of(call)) + call["args"].get("text", "")


def blocks_of(call):
    blocks = call["args"].get("blocks") or []
    return json.loads(blocks) if isinstance(blocks, str) else blocks


def find_action(blocks, action_prefix, value=None):
    """The (block_id, element) of the first element whose action_id starts with the prefix."""
    for block in blocks:
        elements = block.get("elements", [])
        if block.get("accessory"):
            elements = elements + [block["accessory"]]
        if block.get("element"):
            elements = elements + [block["element"]]
        for element in elements:
            if element.get("action_id", "").startswith(action_prefix):
                if value is None or element.get("value") == value or any(
                        o.get("value") == value for o in element.get("options", [])):
                    return block["block_id"], element
    raise AssertionError("no %s action in %s" % (action_prefix, json.dumps(blocks)))


def click(box, fake, user, channel, blocks, action_prefix, value=None, selected=None, typed=None):
    """Sends a block_actions payload as Slack does when the user clicks."""
    block_id, element = find_action(blocks, action_prefix, value)
    action = {"action_id": element["action_id"], "block_id": block_id, "type": element["type"],
              "action_ts": "%f" % time.time()}
    if element["type"] == "button":
        action["value"] = element.get("value", "")
    elif element["type"] == "static_select":
        action["selected_option"] = {"text": {"type": "plain_text", "text": selected}, "value": selected}
    elif element["type"] == "plain_text_input":
        action["value"] = typed
    trigger = fake.control("trigger")["trigger_id"]
    payload = {"type": "block_actions", "user": {"id": user, "username": user.lower()}, "api_app_id": "A0FAKE",
               "token": "x", "trigger_id": trigger, "team": {"id": "T0FAKE"}, "channel": {"id": channel},
               "container": {"type": "message", "channel_id": channel}, "actions": [action]}
    status, text, _ = box.interact(payload)
    assert status == 200, (status, text)
    return trigger
