"""TLS between agents and the box: server certificates, and mutual TLS with client certificates."""
import os
import subprocess
import tempfile
import time
import unittest

import grpc

from test_interop import BIN, Spawned, API_TOKEN, config_dir  # noqa: F401
from grpc_health.v1 import health_pb2, health_pb2_grpc

TOKEN = "tls-agent-token"


def openssl(*args, cwd):
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True)


def make_certificates():
    """A throwaway CA, a server certificate for 127.0.0.1, and a client certificate."""
    d = tempfile.mkdtemp(prefix="meeseeks-tls-")
    openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out", "ca.pem", "-days", "2",
            "-subj", "/CN=Meeseeks Test CA", cwd=d)
    openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "other-ca.key", "-out", "other-ca.pem", "-days", "2",
            "-subj", "/CN=Someone Else's CA", cwd=d)
    for name, san in [("server", "subjectAltName=IP:127.0.0.1,DNS:localhost"), ("client", "extendedKeyUsage=clientAuth")]:
        with open(os.path.join(d, name + ".ext"), "w") as f:
            f.write(san + "\n")
        openssl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", name + ".key", "-out", name + ".csr", "-subj", "/CN=" + name, cwd=d)
        openssl("x509", "-req", "-in", name + ".csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial", "-out", name + ".pem",
                "-days", "2", "-extfile", name + ".ext", cwd=d)
    return d


class TLS(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.certs = make_certificates()
        cls.config = config_dir({
            "commands.d/hi.yaml": "name: hi\nsummary: Hi\nrun: [/bin/echo, over tls]\n",
            "policies.d/p.yaml": "roles:\n  sre: {members: [U_SRE]}\ngrants:\n  - {roles: [sre], commands: [\"*\"]}\n",
        })

    def path(self, name):
        return os.path.join(self.certs, name)

    def start_box(self, mutual):
        argv = [os.path.join(BIN, "meeseeks"), "serve", "--config", self.config, "--http", "127.0.0.1:0", "--grpc", "127.0.0.1:0",
                "--no-local-agent", "--db", os.path.join(tempfile.mkdtemp(), "db"),
                "--grpc-tls-cert", self.path("server.pem"), "--grpc-tls-key", self.path("server.key")]
        if mutual:
            argv += ["--grpc-tls-client-ca", self.path("ca.pem")]
        box = Spawned(argv, env=dict(os.environ, MEESEEKS_AGENT_TOKEN=TOKEN, MEESEEKS_API_TOKEN=API_TOKEN))
        http = "http://" + box.wait_line("http listening on").split()[-1]
        grpc_address = box.wait_line("grpc listening on").split()[-1]
        return box, http, grpc_address

    def agent(self, address, *flags, agent_id=None):
        return Spawned([os.path.join(BIN, "mrmeeseeks"), "--box", address, "--labels", "tls=yes",
                        "--id", agent_id or "tls-%f" % time.time(), "--state", tempfile.mkdtemp(), *flags],
                       env=dict(os.environ, MEESEEKS_AGENT_TOKEN=TOKEN))

    def run_hi(self, http):
        env = dict(os.environ, MEESEEKS_URL=http, MEESEEKS_API_TOKEN=API_TOKEN)
        return subprocess.run([os.path.join(BIN, "meeseeks"), "run", "--as", "U_SRE", "hi"], capture_output=True, text=True,
                              env=env, timeout=60)

    def test_server_tls(self):
        box, http, address = self.start_box(mutual=False)
        good = self.agent(address, "--tls-ca", self.path("ca.pem"))
        plain = self.agent(address)
        named = self.agent(address, "--tls-ca", self.path("ca.pem"), "--tls-server-name", "localhost")
        # NIOSSL accepts a certificate naming either the server name or the IP dialled; a box
        # whose certificate does not chain to the CA the agent trusts is refused.
        untrusting = self.agent(address, "--tls-ca", self.path("other-ca.pem"))
        try:
            good.wait_line("connected to the box", stream="err")
            named.wait_line("connected to the box", stream="err")
            result = self.run_hi(http)
            self.assertEqual((result.returncode, result.stdout), (0, "over tls\n"), result.stderr)
            time.sleep(1)
            self.assertFalse(any("connected to the box" in line for line in plain.err), "".join(plain.err))
            self.assertFalse(any("connected to the box" in line for line in untrusting.err), "".join(untrusting.err))
            # An independent client (grpcio) verifies the certificate too.
            with open(self.path("ca.pem"), "rb") as f:
                credentials = grpc.ssl_channel_credentials(root_certificates=f.read())
            with grpc.secure_channel(address, credentials) as channel:
                status = health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest(), timeout=10).status
                self.assertEqual(status, health_pb2.HealthCheckResponse.SERVING)
        finally:
            for process in (good, plain, named, untrusting, box):
                process.stop()

    def test_mutual_tls(self):
        box, http, address = self.start_box(mutual=True)
        certificate = ("--tls-ca", self.path("ca.pem"), "--tls-cert", self.path("client.pem"), "--tls-key", self.path("client.key"))
        anonymous = self.agent(address, "--tls-ca", self.path("ca.pem"))
        # The certificate names the agent (CN=client): another id with it is refused.
        impostor = self.agent(address, *certificate, agent_id="web1")
        known = self.agent(address, *certificate, agent_id="client")
        try:
            known.wait_line("connected to the box", stream="err")
            self.assertEqual(self.run_hi(http).returncode, 0)
            impostor.wait_line("the client certificate names client, not agent 'web1'", stream="err")
            time.sleep(1)
            self.assertFalse(any("connected to the box" in line for line in anonymous.err + impostor.err))
        finally:
            for process in (anonymous, impostor, known, box):
                process.stop()


if __name__ == "__main__":
    unittest.main()
