"""The Kubernetes pack (examples/kubernetes), the systemd units (examples/systemd) and the
Containerfile, checked without a cluster, without systemd running and without building an image.

- the pack's commands lint clean, also as Kubernetes mounts a ConfigMap (symlinks through ..data);
- the manifests: well-formed, RBAC exactly what the commands need, a non-root read-only container,
  consistent with each other, with kustomization.yaml and with the Containerfile;
- a real box and a real agent (`mrmeeseeks --config examples/kubernetes`) whose PATH starts with a
  `kubectl` stand-in that records its argv: each command reaches kubectl with exactly the argv we
  mean, and values outside Kubernetes' naming rules or the bounds never reach it; a forged box
  (grpcio) sending such values straight to the agent is refused by the agent itself;
- `systemd-analyze verify` and `systemd-analyze security` on the units;
- the Containerfile's runtime stage installs every Debian package the binaries link against.

This proves our argv and our manifests' shape, not Kubernetes' behaviour.
"""
import glob
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
import unittest
import urllib.request

import yaml

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(REPO, "Tests", "slack"))
from harness import Spawned, BIN, config_dir, API_TOKEN  # noqa: E402

PACK = os.path.join(REPO, "examples", "kubernetes")
COMMANDS = os.path.join(PACK, "commands.d")
MANIFESTS = os.path.join(PACK, "manifests")
SYSTEMD = os.path.join(REPO, "examples", "systemd")
CONTAINERFILE = os.path.join(REPO, "Containerfile")
TOKEN = "pack-agent-token"
USER = "U_ONCALL"

# What the commands need, and nothing else (examples/kubernetes/manifests/rbac.yaml explains each).
EXPECTED_RULES = {
    ("apps", "deployments"): {"get", "list", "watch", "patch"},
    ("apps", "deployments/scale"): {"get", "patch", "update"},
    ("", "pods"): {"get", "list"},
    ("", "pods/log"): {"get"},
}

KUBECTL_STAND_IN = """#!%s
# Stands in for kubectl: records what it was given, prints a line, succeeds.
import json, os, sys
with open(os.environ["KUBECTL_LOG"], "a") as log:
    log.write(json.dumps({"argv0": sys.argv[0], "args": sys.argv[1:],
                          "token_seen": "MEESEEKS_AGENT_TOKEN" in os.environ,
                          "user": os.environ.get("MEESEEKS_USER")}) + "\\n")
print("kubectl stand-in:", " ".join(sys.argv[1:]))
"""


def run(argv, env=None, timeout=60):
    return subprocess.run(argv, capture_output=True, text=True, timeout=timeout, env=env)


def load_all(path):
    with open(path) as f:
        return [doc for doc in yaml.safe_load_all(f) if doc is not None]


def manifests():
    docs = []
    for path in sorted(glob.glob(os.path.join(MANIFESTS, "*.yaml"))):
        docs += [(os.path.basename(path), doc) for doc in load_all(path)]
    return docs


def one(kind):
    [doc] = [doc for _, doc in manifests() if doc["kind"] == kind]
    return doc


def command_files():
    return sorted(os.path.basename(p) for p in glob.glob(os.path.join(COMMANDS, "*.yaml")))


class PackLints(unittest.TestCase):
    def lint(self, folder):
        return run([os.path.join(BIN, "mrmeeseeks"), "lint", "--strict", "--config", folder])

    def test_the_pack_lints_clean_with_warnings_as_errors(self):
        result = self.lint(PACK)
        self.assertEqual((result.returncode, result.stderr, result.stdout), (0, "", ""))
        self.assertEqual(len(command_files()), 5)

    def test_the_box_lints_the_same_files_clean(self):
        result = run([os.path.join(BIN, "meeseeks"), "lint", "--strict", *[os.path.join(COMMANDS, f) for f in command_files()]])
        self.assertEqual((result.returncode, result.stderr), (0, ""))

    def kubelet_layout(self, files):
        """A folder laid out as the kubelet mounts a ConfigMap: name -> ..data/name -> ..TIMESTAMP/name."""
        root = tempfile.mkdtemp(prefix="pack-configmap-")
        self.addCleanup(shutil.rmtree, root, ignore_errors=True)
        mount = os.path.join(root, "commands.d")
        stamp = os.path.join(mount, "..2025_01_01_00_00_00.000000001")
        os.makedirs(stamp)
        for name, text in files.items():
            with open(os.path.join(stamp, name), "w") as f:
                f.write(text)
        os.symlink(os.path.basename(stamp), os.path.join(mount, "..data"))
        for name in files:
            os.symlink(os.path.join("..data", name), os.path.join(mount, name))
        return root

    def test_a_configmap_mount_is_read_through_its_symlinks(self):
        files = {}
        for name in command_files():
            with open(os.path.join(COMMANDS, name)) as f:
                files[name] = f.read()
        result = self.lint(self.kubelet_layout(files))
        self.assertEqual((result.returncode, result.stderr), (0, ""))
        # The files are really read there: a broken one is reported under its own name.
        files["k8s-broken.yaml"] = "name: k8s-broken\nsummary: x\nrun: [kubectl]\ntimeout: soon\n"
        result = self.lint(self.kubelet_layout(files))
        self.assertEqual(result.returncode, 1)
        self.assertIn("k8s-broken.yaml", result.stderr)


class Manifests(unittest.TestCase):
    def test_every_manifest_is_a_named_kubernetes_object(self):
        docs = manifests()
        self.assertGreaterEqual(len(docs), 6)
        for name, doc in docs:
            with self.subTest(file=name, kind=doc.get("kind")):
                self.assertIsInstance(doc.get("apiVersion"), str)
                self.assertIsInstance(doc.get("kind"), str)
                self.assertRegex(doc.get("metadata", {}).get("name", ""), r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
        kinds = sorted(doc["kind"] for _, doc in docs)
        self.assertEqual(kinds, ["Deployment", "Namespace", "Role", "RoleBinding", "Secret", "ServiceAccount"])

    def test_the_role_grants_exactly_what_the_commands_need(self):
        role = one("Role")
        granted = {}
        for rule in role["rules"]:
            self.assertEqual(set(rule), {"apiGroups", "resources", "verbs"}, "no resourceNames, no nonResourceURLs")
            for group in rule["apiGroups"]:
                for resource in rule["resources"]:
                    self.assertNotIn("*", (group, resource))
                    granted.setdefault((group, resource), set()).update(rule["verbs"])
        self.assertEqual(granted, EXPECTED_RULES)
        self.assertFalse(any(doc["kind"] in ("ClusterRole", "ClusterRoleBinding") for _, doc in manifests()))

    def test_the_binding_gives_the_role_to_the_agents_service_account_only(self):
        role, binding, account = one("Role"), one("RoleBinding"), one("ServiceAccount")
        self.assertEqual(binding["metadata"]["namespace"], role["metadata"]["namespace"])
        self.assertEqual(binding["roleRef"], {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": role["metadata"]["name"]})
        self.assertEqual(binding["subjects"], [{"kind": "ServiceAccount", "name": account["metadata"]["name"],
                                                "namespace": account["metadata"]["namespace"]}])

    def test_the_agent_runs_only_its_own_commands_as_non_root_on_a_read_only_root(self):
        deployment = one("Deployment")
        pod = deployment["spec"]["template"]["spec"]
        [container] = pod["containers"]
        context = dict(pod.get("securityContext", {}), **container["securityContext"])
        self.assertIs(context["runAsNonRoot"], True)
        self.assertNotEqual(context.get("runAsUser"), 0)
        self.assertIs(context["readOnlyRootFilesystem"], True)
        self.assertIs(context["allowPrivilegeEscalation"], False)
        self.assertEqual(context["capabilities"], {"drop": ["ALL"]})
        self.assertEqual(context["seccompProfile"], {"type": "RuntimeDefault"})
        self.assertTrue({"cpu", "memory"} <= set(container["resources"]["limits"]))
        self.assertTrue({"cpu", "memory"} <= set(container["resources"]["requests"]))
        self.assertEqual(container["command"], ["mrmeeseeks"])
        args = container["args"]
        self.assertIn("--config=/etc/mrmeeseeks", args)
        self.assertFalse(any(a.startswith("--commands") for a in args), "--commands would let the box send argv")
        # The pieces fit together: service account, Secret, ConfigMap mount, drain before SIGKILL.
        self.assertEqual(pod["serviceAccountName"], one("ServiceAccount")["metadata"]["name"])
        [token] = [e for e in container["env"] if e["name"] == "MEESEEKS_AGENT_TOKEN"]
        secret = one("Secret")
        self.assertEqual(token["valueFrom"]["secretKeyRef"], {"name": secret["metadata"]["name"], "key": "MEESEEKS_AGENT_TOKEN"})
        self.assertEqual(list(secret["stringData"]), ["MEESEEKS_AGENT_TOKEN"])
        mounts = {m["mountPath"]: m for m in container["volumeMounts"]}
        volume = {v["name"]: v for v in pod["volumes"]}[mounts["/etc/mrmeeseeks/commands.d"]["name"]]
        self.assertEqual(volume["configMap"]["name"], "mrmeeseeks-k8s-commands")
        self.assertTrue(all(m.get("readOnly") or "emptyDir" in volume_of(pod, m) for m in container["volumeMounts"]))
        grace = float([a for a in args if a.startswith("--grace=")][0].split("=")[1])
        self.assertGreater(pod["terminationGracePeriodSeconds"], grace)
        self.assertEqual(deployment["spec"]["strategy"]["type"], "Recreate", "one --id, never two pods at once")
        # The image's user (Containerfile) is the one the pod runs as.
        with open(CONTAINERFILE) as f:
            self.assertIn("--uid %d " % context["runAsUser"], f.read())

    def test_the_real_agent_takes_the_deployments_arguments_and_serves_the_probe(self):
        pod = one("Deployment")["spec"]["template"]["spec"]
        [container] = pod["containers"]
        mounts = {m["mountPath"] for m in container["volumeMounts"]}
        self.assertIn("/var/lib/mrmeeseeks", mounts)
        state = tempfile.mkdtemp(prefix="pack-agent-state-")
        self.addCleanup(shutil.rmtree, state, ignore_errors=True)
        local = {"--config": PACK, "--state": state, "--metrics": "127.0.0.1:0", "--box": "127.0.0.1:1"}
        args = [(a.split("=", 1)[0] + "=" + local[a.split("=", 1)[0]]) if a.split("=", 1)[0] in local else a
                for a in container["args"]]
        agent = Spawned([os.path.join(BIN, "mrmeeseeks"), *args], env=dict(os.environ, MEESEEKS_AGENT_TOKEN=TOKEN))
        self.addCleanup(agent.stop)
        address = json.loads(agent.wait_line("metrics listening", stream="err"))["address"]
        probe = container["livenessProbe"]["httpGet"]
        self.assertEqual(probe["port"], container["ports"][0]["name"])
        self.assertEqual(container["ports"][0]["containerPort"], int([a for a in container["args"] if a.startswith("--metrics=")][0].rsplit(":", 1)[1]))
        with urllib.request.urlopen("http://%s%s" % (address, probe["path"]), timeout=10) as response:
            self.assertEqual(response.status, 200)

    def test_the_kustomization_generates_the_configmap_from_every_command_and_leaves_the_secret_out(self):
        kustomization = load_all(os.path.join(PACK, "kustomization.yaml"))[0]
        [generator] = kustomization["configMapGenerator"]
        self.assertEqual(generator["name"], "mrmeeseeks-k8s-commands")
        self.assertEqual(sorted(os.path.basename(f) for f in generator["files"]), command_files())
        for resource in kustomization["resources"]:
            self.assertTrue(os.path.isfile(os.path.join(PACK, resource)), resource)
        self.assertNotIn("manifests/secret.yaml", kustomization["resources"], "apply -k would overwrite the real token")
        listed = {os.path.basename(r) for r in kustomization["resources"]} | {"secret.yaml"}
        self.assertEqual(listed, {os.path.basename(p) for p in glob.glob(os.path.join(MANIFESTS, "*.yaml"))})

    def test_kubectl_kustomize_renders_it(self):
        kubectl = shutil.which("kubectl")
        if kubectl is None:
            self.skipTest("kubectl is not installed: the kustomization is checked by reading only")
        result = run([kubectl, "kustomize", PACK])
        self.assertEqual(result.returncode, 0, result.stderr)
        docs = [d for d in yaml.safe_load_all(result.stdout) if d]
        [configmap] = [d for d in docs if d["kind"] == "ConfigMap"]
        [deployment] = [d for d in docs if d["kind"] == "Deployment"]
        self.assertRegex(configmap["metadata"]["name"], r"^mrmeeseeks-k8s-commands-[a-z0-9]+$")
        self.assertEqual(configmap["metadata"]["namespace"], "meeseeks")
        volumes = deployment["spec"]["template"]["spec"]["volumes"]
        self.assertIn({"name": "commands", "configMap": {"name": configmap["metadata"]["name"]}}, volumes)
        for name in command_files():
            with open(os.path.join(COMMANDS, name)) as f:
                self.assertEqual(configmap["data"][name], f.read())
        self.assertEqual(sorted(configmap["data"]), command_files())
        self.assertFalse([d for d in docs if d["kind"] == "Secret"])


def volume_of(pod, mount):
    return {v["name"]: v for v in pod["volumes"]}[mount["name"]]


class KubectlStandIn:
    """A temp folder with a `kubectl` that appends its argv (JSON, one call a line) to a log."""

    def __init__(self):
        self.folder = tempfile.mkdtemp(prefix="pack-kubectl-")
        self.bin = os.path.join(self.folder, "bin")
        os.makedirs(self.bin)
        self.log = os.path.join(self.folder, "calls.jsonl")
        open(self.log, "w").close()
        path = os.path.join(self.bin, "kubectl")
        with open(path, "w") as f:
            f.write(KUBECTL_STAND_IN % sys.executable)
        os.chmod(path, 0o755)

    def env(self, **extra):
        return dict(os.environ, PATH=self.bin + os.pathsep + os.environ.get("PATH", "/usr/bin:/bin"),
                    KUBECTL_LOG=self.log, **extra)

    def calls(self):
        with open(self.log) as f:
            return [json.loads(line) for line in f if line.strip()]

    def remove(self):
        shutil.rmtree(self.folder, ignore_errors=True)


# Each command with its values, and exactly what kubectl must receive.
CASES = [
    (["k8s-restart", "namespace=apps", "deployment=web"],
     ["--namespace", "apps", "--request-timeout=30s", "rollout", "restart", "deployment/web"]),
    (["k8s-restart", "deployment=payments.v2"],  # the default namespace; a subdomain name with a dot
     ["--namespace", "apps", "--request-timeout=30s", "rollout", "restart", "deployment/payments.v2"]),
    (["k8s-scale", "namespace=shop", "deployment=web", "replicas=0"],
     ["--namespace", "shop", "--request-timeout=30s", "scale", "deployment/web", "--replicas=0"]),
    (["k8s-scale", "namespace=shop", "deployment=web", "replicas=20"],
     ["--namespace", "shop", "--request-timeout=30s", "scale", "deployment/web", "--replicas=20"]),
    (["k8s-status", "namespace=apps", "deployment=api-7"],
     ["--namespace", "apps", "rollout", "status", "deployment/api-7", "--timeout=2m"]),
    (["k8s-pods", "namespace=apps"],
     ["--namespace", "apps", "--request-timeout=30s", "get", "pods", "--output=wide"]),
    (["k8s-logs", "namespace=apps", "pod=web-5d9c7b8f6d-x2x7q", "lines=250"],
     ["--namespace", "apps", "--request-timeout=30s", "logs", "pod/web-5d9c7b8f6d-x2x7q", "--all-containers=true", "--tail=250"]),
    (["k8s-logs", "pod=web-0"],
     ["--namespace", "apps", "--request-timeout=30s", "logs", "pod/web-0", "--all-containers=true", "--tail=100"]),
]

# Values Kubernetes' naming rules or the bounds refuse, and why.
REFUSED = [
    ["k8s-restart", "deployment=Web"],                     # upper case
    ["k8s-restart", "deployment=web_app"],                 # underscore
    ["k8s-restart", "deployment=-web"],                    # leading dash (an option to kubectl)
    ["k8s-restart", "deployment=web-"],                    # trailing dash
    ["k8s-restart", "deployment=web/../../x"],             # a path
    ["k8s-restart", "deployment=web --all"],               # a space
    ["k8s-restart", "deployment=" + "a" * 254],            # longer than 253
    ["k8s-restart", "deployment=web", "namespace=kube-system"],
    ["k8s-restart", "deployment=web", "namespace=" + "n" * 64],  # a label: 63 at most
    ["k8s-restart", "deployment=web", "namespace=a.b"],    # a label has no dots
    ["k8s-scale", "deployment=web", "replicas=21"],
    ["k8s-scale", "deployment=web", "replicas=-1"],
    ["k8s-scale", "deployment=web", "replicas=+5"],
    ["k8s-scale", "deployment=web", "replicas=05"],
    ["k8s-scale", "deployment=web", "replicas=1e3"],
    ["k8s-logs", "pod=web-0", "lines=0"],
    ["k8s-logs", "pod=web-0", "lines=1001"],
    ["k8s-logs", "pod=web-0", "lines=-1"],
    ["k8s-pods", "namespace=--all-namespaces"],
]


class EndToEnd(unittest.TestCase):
    """A real box and a real agent with the pack; kubectl is the stand-in."""

    @classmethod
    def setUpClass(cls):
        cls.kubectl = KubectlStandIn()
        cls.addClassCleanup(cls.kubectl.remove)
        cls.config = config_dir({
            "commands.d/.keep": "",
            "policies.d/oncall.yaml": 'roles:\n  oncall: {members: [%s]}\ngrants:\n  - {roles: [oncall], commands: ["k8s-*"]}\n' % USER,
        })
        cls.addClassCleanup(shutil.rmtree, cls.config, ignore_errors=True)
        box = Spawned([os.path.join(BIN, "meeseeks"), "serve", "--config", cls.config, "--http", "127.0.0.1:0",
                       "--grpc", "127.0.0.1:0", "--no-local-agent"],
                      env=dict(os.environ, MEESEEKS_AGENT_TOKEN=TOKEN, MEESEEKS_API_TOKEN=API_TOKEN))
        cls.addClassCleanup(box.stop)
        cls.http = "http://" + box.wait_line("http listening on").split()[-1]
        grpc = box.wait_line("grpc listening on").split()[-1]
        state = tempfile.mkdtemp(prefix="pack-agent-state-")
        cls.addClassCleanup(shutil.rmtree, state, ignore_errors=True)
        cls.agent = Spawned([os.path.join(BIN, "mrmeeseeks"), "--box", grpc, "--id", "k8s-test",
                             "--labels", "team=platform,cluster=test", "--config", PACK, "--state", state],
                            env=cls.kubectl.env(MEESEEKS_AGENT_TOKEN=TOKEN))
        cls.addClassCleanup(cls.agent.stop)
        cls.agent.wait_line("connected to the box", stream="err")
        deadline = time.time() + 30
        while not all(name in cls.cli("chat", "--as", USER, "help").stdout for name in
                      ("k8s-restart", "k8s-scale", "k8s-status", "k8s-pods", "k8s-logs")):
            if time.time() > deadline:
                raise AssertionError("the pack's commands were not offered: " + cls.cli("agents").stdout)
            time.sleep(0.1)

    @classmethod
    def cli(cls, *args):
        return run([os.path.join(BIN, "meeseeks"), *args],
                   env=dict(os.environ, MEESEEKS_URL=cls.http, MEESEEKS_API_TOKEN=API_TOKEN))

    def test_each_command_gives_kubectl_exactly_our_argv(self):
        for request, expected in CASES:
            with self.subTest(request=request):
                before = len(self.kubectl.calls())
                result = self.cli("run", "--as", USER, *request)
                self.assertEqual(result.returncode, 0, result.stderr + result.stdout)
                calls = self.kubectl.calls()[before:]
                self.assertEqual(len(calls), 1, calls)
                [call] = calls
                self.assertEqual(call["args"], expected)
                # Found through the agent's PATH (argv[0] "kubectl", no shell), as the requester.
                self.assertEqual(os.path.realpath(call["argv0"]), os.path.realpath(os.path.join(self.kubectl.bin, "kubectl")))
                self.assertEqual(call["user"], USER)
                self.assertFalse(call["token_seen"], "the job saw the agent's token")
                self.assertEqual(result.stdout, "kubectl stand-in: %s\n" % " ".join(expected))

    def test_values_outside_the_rules_never_reach_kubectl(self):
        before = self.kubectl.calls()
        for request in REFUSED:
            with self.subTest(request=request):
                result = self.cli("run", "--as", USER, *request)
                self.assertNotEqual(result.returncode, 0, result.stdout)
                self.assertRegex(result.stderr + result.stdout, r"does not match the pattern|above the maximum|below the minimum|not a whole number")
        self.assertEqual(self.kubectl.calls(), before)

    def test_an_unknown_argument_or_command_is_refused(self):
        before = self.kubectl.calls()
        self.assertNotEqual(self.cli("run", "--as", USER, "k8s-pods", "namespace=apps", "selector=x").returncode, 0)
        self.assertNotEqual(self.cli("run", "--as", USER, "k8s-delete", "deployment=web").returncode, 0)
        self.assertEqual(self.kubectl.calls(), before)

    def test_the_agent_offers_only_its_own_commands(self):
        agents = self.cli("agents")
        self.assertEqual(agents.returncode, 0, agents.stderr)
        self.assertIn("k8s-test", agents.stdout)


class ForgedJobs(unittest.TestCase):
    """A compromised box (grpcio, the same impostor as Tests/grpc) sends values straight to the
    agent: the agent checks them against the pack's definitions itself."""

    @classmethod
    def setUpClass(cls):
        sys.path.insert(0, os.path.join(REPO, "Tests", "grpc"))
        try:
            import grpc
            from concurrent import futures
            import test_interop
            from test_interop import agent_pb2, agent_pb2_grpc
            from test_forged_jobs import ImpostorBox
        except ImportError as error:  # the oracles' virtualenv (scripts/python-oracles) has them
            raise unittest.SkipTest("grpcio or grpcio-tools missing: %s" % error)
        cls.addClassCleanup(shutil.rmtree, test_interop.GENERATED, ignore_errors=True)  # the generated stubs
        cls.pb = agent_pb2
        cls.kubectl = KubectlStandIn()
        cls.addClassCleanup(cls.kubectl.remove)
        cls.impostor = ImpostorBox()
        server = grpc.server(futures.ThreadPoolExecutor(max_workers=4))
        agent_pb2_grpc.add_AgentServiceServicer_to_server(cls.impostor, server)
        port = server.add_insecure_port("127.0.0.1:0")
        server.start()
        cls.addClassCleanup(server.stop, 0)
        state = tempfile.mkdtemp(prefix="pack-agent-state-")
        cls.addClassCleanup(shutil.rmtree, state, ignore_errors=True)
        agent = Spawned([os.path.join(BIN, "mrmeeseeks"), "--box", "127.0.0.1:%d" % port, "--id", "k8s-forged",
                         "--config", PACK, "--state", state], env=cls.kubectl.env(MEESEEKS_AGENT_TOKEN=TOKEN))
        cls.addClassCleanup(agent.stop)
        agent.wait_line("connected to the box", stream="err")

    def send(self, job_id, command, arguments, **fields):
        self.impostor.jobs.put(self.pb.JobAssignment(job_id=job_id, attempt=1, command=command, timeout_seconds=30,
                                                     user=USER, agent_owned=True, arguments=arguments, **fields))

    def test_the_registration_carries_the_pack_and_not_how_it_runs(self):
        register = self.impostor.received[0].register
        self.assertTrue(register.own_commands_only)
        self.assertEqual(sorted(d.name for d in register.definitions),
                         ["k8s-logs", "k8s-pods", "k8s-restart", "k8s-scale", "k8s-status"])
        self.assertNotIn("--request-timeout=30s", str(register))  # how it runs stays on the agent

    def test_forged_values_are_refused_by_the_agent(self):
        forged = [
            ("k8s-scale", {"namespace": "apps", "deployment": "web", "replicas": "500"}, "above the maximum"),
            ("k8s-scale", {"namespace": "apps", "deployment": "web", "replicas": "+5"}, "does not match the pattern"),
            ("k8s-restart", {"namespace": "apps", "deployment": "../../secrets"}, "does not match the pattern"),
            ("k8s-restart", {"namespace": "kube-system", "deployment": "coredns"}, "does not match the pattern"),
            ("k8s-logs", {"namespace": "apps", "pod": "web-0", "lines": "1000000"}, "above the maximum"),
            ("k8s-pods", {"namespace": "apps", "output": "yaml"}, "has no argument 'output'"),
            ("k8s-delete", {"namespace": "apps"}, "defines no command"),
        ]
        for job_id, (command, arguments, reason) in enumerate(forged, start=201):
            with self.subTest(command=command, arguments=arguments):
                self.send(job_id, command, arguments)
                rejected = self.impostor.wait("rejected", job_id)
                self.assertEqual(rejected.code, "invalid")
                self.assertIn(reason, rejected.reason)
        self.send(220, "k8s-pods", {"namespace": "apps"}, argv=["kubectl", "delete", "namespace", "apps"])
        self.assertIn("must not bring argv", self.impostor.wait("rejected", 220).reason)
        self.assertEqual(self.kubectl.calls(), [])

    def test_valid_values_run_the_packs_own_argv(self):
        self.send(230, "k8s-scale", {"namespace": "apps", "deployment": "web", "replicas": "3"})
        self.assertEqual(self.impostor.wait("result", 230).status, "succeeded")
        [call] = [c for c in self.kubectl.calls() if "scale" in c["args"]]
        self.assertEqual(call["args"], ["--namespace", "apps", "--request-timeout=30s", "scale", "deployment/web", "--replicas=3"])


class RealKubectlParsesOurArgv(unittest.TestCase):
    """Where a real kubectl is installed, it accepts each argv's flags (it then fails to reach the
    unreachable API server we give it, which is expected)."""

    def test_no_unknown_flag_or_command(self):
        kubectl = shutil.which("kubectl")
        if kubectl is None:
            self.skipTest("kubectl is not installed")
        home = tempfile.mkdtemp(prefix="pack-kubectl-home-")
        self.addCleanup(shutil.rmtree, home, ignore_errors=True)
        config = os.path.join(home, "config")
        with open(config, "w") as f:
            f.write("apiVersion: v1\nkind: Config\nclusters: [{name: c, cluster: {server: 'https://127.0.0.1:1'}}]\n"
                    "users: [{name: u, user: {token: t}}]\ncontexts: [{name: x, context: {cluster: c, user: u}}]\n"
                    "current-context: x\n")
        env = dict(os.environ, HOME=home, KUBECONFIG=config)
        for _, argv in CASES:
            with self.subTest(argv=argv):
                result = run([kubectl, *argv], env=env, timeout=60)
                self.assertNotEqual(result.returncode, 0)
                self.assertIn("127.0.0.1:1", result.stderr)
                self.assertNotRegex(result.stderr, r"unknown (flag|command|shorthand)|invalid argument|Usage:")
        # The check does catch a bad flag.
        bad = run([kubectl, "--namespace", "apps", "scale", "deployment/web", "--replicaz=1"], env=env)
        self.assertIn("unknown flag", bad.stderr)


def unit_entries(path):
    """[Section] Key=Value lines of a unit file, in order (keys may repeat)."""
    entries, section = [], None
    with open(path) as f:
        for line in f:
            line = line.strip()
            if not line or line.startswith(("#", ";")):
                continue
            if line.startswith("["):
                section = line.strip("[]")
                continue
            key, _, value = line.partition("=")
            entries.append((section, key, value))
    return entries


def unit_value(path, key):
    values = [v for s, k, v in unit_entries(path) if k == key]
    return values[-1] if values else None


UNITS = ["meeseeks.service", "mrmeeseeks.service"]


class SystemdUnits(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.analyze = shutil.which("systemd-analyze")
        if cls.analyze is None and os.geteuid() == 0 and shutil.which("apt-get"):
            # Only as root, and only the package that has it; failing that, the tests below skip.
            env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
            for step in (["apt-get", "update", "-qq"], ["apt-get", "install", "-y", "-qq", "systemd"]):
                try:
                    subprocess.run(step, capture_output=True, timeout=600, env=env)
                except subprocess.TimeoutExpired:
                    break
            cls.analyze = shutil.which("systemd-analyze")
        # A scratch root for --root: the units, stand-ins for the programs they start (verify only
        # checks that they are executable), and the host's own units (targets they refer to).
        cls.root = tempfile.mkdtemp(prefix="pack-systemd-root-")
        cls.addClassCleanup(shutil.rmtree, cls.root, ignore_errors=True)
        for program in ("usr/local/bin/meeseeks", "usr/local/bin/mrmeeseeks", "bin/kill"):
            path = os.path.join(cls.root, program)
            os.makedirs(os.path.dirname(path), exist_ok=True)
            with open(path, "w") as f:
                f.write("#!/bin/sh\nexit 0\n")
            os.chmod(path, 0o755)
        os.makedirs(os.path.join(cls.root, "etc/systemd/system"))
        for unit in UNITS:
            shutil.copy(os.path.join(SYSTEMD, unit), os.path.join(cls.root, "etc/systemd/system", unit))
        if os.path.isdir("/usr/lib/systemd/system"):
            shutil.copytree("/usr/lib/systemd/system", os.path.join(cls.root, "usr/lib/systemd/system"), symlinks=True)

    def need_analyze(self):
        if self.analyze is None:
            self.skipTest("systemd-analyze is not installed (and could not be: not root, or apt-get failed); "
                          "install the systemd package to check the units")

    def test_systemd_analyze_verify_is_silent(self):
        self.need_analyze()
        result = run([self.analyze, "verify", "--root=" + self.root, *UNITS])
        self.assertEqual((result.returncode, result.stdout, result.stderr), (0, "", ""))

    def test_verify_would_catch_a_mistake(self):
        self.need_analyze()
        broken = os.path.join(self.root, "etc/systemd/system/broken.service")
        with open(os.path.join(SYSTEMD, "meeseeks.service")) as f:
            text = f.read().replace("ProtectSystem=strict", "ProtectSystem=strickt")
        with open(broken, "w") as f:
            f.write(text)
        self.addCleanup(os.remove, broken)
        result = run([self.analyze, "verify", "--root=" + self.root, "broken.service"])
        self.assertIn("strickt", result.stderr)

    def test_the_sandbox_is_rated_ok(self):
        self.need_analyze()
        for unit in UNITS:
            with self.subTest(unit=unit):
                # --threshold is on the 0-100 scale behind the 0.0-10.0 shown: 20 is "2.0".
                result = run([self.analyze, "security", "--offline=yes", "--root=" + self.root, "--threshold=20", unit])
                self.assertEqual(result.returncode, 0, result.stdout[-600:] + result.stderr)
                self.assertRegex(result.stdout, r"Overall exposure level for %s: [01]\.\d OK" % re.escape(unit))

    def test_hardening_and_drain_settings(self):
        for unit in UNITS:
            path = os.path.join(SYSTEMD, unit)
            with self.subTest(unit=unit):
                for key, value in [("NoNewPrivileges", "yes"), ("ProtectSystem", "strict"), ("ProtectHome", "yes"),
                                   ("PrivateTmp", "yes"), ("Restart", "on-failure"), ("KillMode", "mixed"),
                                   ("KillSignal", "SIGTERM"), ("CapabilityBoundingSet", ""), ("UMask", "0077")]:
                    self.assertEqual(unit_value(path, key), value, key)
                self.assertTrue(unit_value(path, "StateDirectory"))
                self.assertTrue(unit_value(path, "EnvironmentFile").startswith("/etc/"))
                argv = shlex.split(unit_value(path, "ExecStart"))
                grace = float(argv[argv.index("--grace") + 1])
                self.assertGreater(float(unit_value(path, "TimeoutStopSec")), grace, "SIGKILL before the drain ends")
                # The state directory is where the program keeps its state.
                state = "/var/lib/" + unit_value(path, "StateDirectory")
                self.assertTrue(any(a.startswith(state) for a in argv), argv)
        self.assertEqual(unit_value(os.path.join(SYSTEMD, "meeseeks.service"), "DynamicUser"), "yes")
        self.assertEqual(unit_value(os.path.join(SYSTEMD, "mrmeeseeks.service"), "User"), "mrmeeseeks")
        agent = shlex.split(unit_value(os.path.join(SYSTEMD, "mrmeeseeks.service"), "ExecStart"))
        self.assertIn("--config", agent)
        self.assertNotIn("--commands", agent)

    def test_execstart_uses_only_flags_the_programs_have(self):
        for unit, help_argv in [("meeseeks.service", ["meeseeks", "serve", "--help"]), ("mrmeeseeks.service", ["mrmeeseeks", "--help"])]:
            argv = shlex.split(unit_value(os.path.join(SYSTEMD, unit), "ExecStart"))
            self.assertEqual(os.path.basename(argv[0]), help_argv[0])
            text = run([os.path.join(BIN, help_argv[0]), *help_argv[1:]]).stdout
            for flag in [a.split("=")[0] for a in argv if a.startswith("--")]:
                with self.subTest(unit=unit, flag=flag):
                    self.assertRegex(text, r"(?m)^\s+%s\b" % re.escape(flag))


class ContainerfileByReading(unittest.TestCase):
    """The image cannot be built here (no network); what can be checked without building it is."""

    @classmethod
    def setUpClass(cls):
        with open(CONTAINERFILE) as f:
            cls.text = f.read()
        # Instructions with their continuation lines joined, comments dropped.
        joined = re.sub(r"\\\n", " ", "\n".join(l for l in cls.text.splitlines() if not l.lstrip().startswith("#")))
        cls.instructions = [l.strip() for l in joined.splitlines() if l.strip()]
        cls.stages = []  # (name, [instructions])
        for line in cls.instructions:
            if line.startswith("FROM "):
                m = re.match(r"FROM\s+(\S+)(?:\s+AS\s+(\S+))?$", line, re.I)
                cls.stages.append((m.group(2), m.group(1), []))
            elif cls.stages:
                cls.stages[-1][2].append(line)

    def stage(self, name):
        [stage] = [s for s in self.stages if s[0] == name]
        return stage

    def test_stages_and_targets(self):
        names = [s[0] for s in self.stages]
        self.assertEqual(names, ["build", "kubectl", "runtime", "kubernetes-agent", "box"])
        self.assertEqual(self.stages[-1][0], "box", "a plain build gives the box")
        for index, (name, base, body) in enumerate(self.stages):
            earlier = names[:index]
            for line in body:
                for source in re.findall(r"--from=(\S+)", line):
                    self.assertIn(source, earlier, line)
        build = " ".join(self.stage("build")[2])
        for product in ("meeseeks", "mrmeeseeks"):
            self.assertRegex(build, r"swift build -c release --static-swift-stdlib --product %s\b" % product)
        runtime = self.stage("runtime")[2]
        self.assertIn("USER 10001:10001", runtime)
        self.assertIn('ENTRYPOINT ["mrmeeseeks"]', self.stage("kubernetes-agent")[2])
        self.assertIn("COPY --from=kubectl /kubectl /usr/local/bin/kubectl", self.stage("kubernetes-agent")[2])
        self.assertTrue(any("sha256sum --check" in line for line in self.stage("kubectl")[2]))

    def test_the_runtime_installs_every_debian_package_the_binaries_link(self):
        if not shutil.which("ldd") or not shutil.which("dpkg"):
            self.skipTest("needs ldd and dpkg (Debian)")
        runtime = " ".join(self.stage("runtime")[2])
        installed = set(re.search(r"apt-get -q install -y --no-install-recommends (.*?)(&&|$)", runtime).group(1).split())
        self.assertIn("/out/meeseeks-guardian", runtime)  # beside the binaries that start it
        for binary in ("meeseeks", "mrmeeseeks", "meeseeks-guardian"):
            out = run(["ldd", os.path.join(BIN, binary)]).stdout
            for line in out.splitlines():
                m = re.match(r"\s*(\S+) => (\S+)", line)
                if not m or "/swift/" in m.group(2):
                    continue  # the Swift runtime: linked statically in the image (--static-swift-stdlib)
                owner = run(["dpkg", "-S", os.path.realpath(m.group(2))])
                if owner.returncode != 0:  # merged /usr: dpkg may know the /lib path only
                    owner = run(["dpkg", "-S", m.group(2)])
                self.assertEqual(owner.returncode, 0, owner.stderr)
                package = owner.stdout.split(":")[0]
                with self.subTest(binary=binary, library=m.group(1)):
                    self.assertTrue(package == "libc6" or package in installed,
                                    "%s needs %s from %s, which the runtime stage does not install" % (binary, m.group(1), package))


if __name__ == "__main__":
    unittest.main()
