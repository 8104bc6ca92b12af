"""Writes the seed inputs of FuzzAgentReport (Fuzz/corpus/FuzzAgentReport) from the agent protocol's
messages, as the grpcio agents of Tests/grpc send them. Run from the repository root with the
venv's python (grpcio-tools)."""
import sys
import tempfile

from grpc_tools import protoc
out = tempfile.mkdtemp()
assert protoc.main(["protoc", "-IProtos", "--python_out=" + out, "Protos/meeseeks/agent/v1/agent.proto"]) == 0
sys.path.insert(0, out)
from meeseeks.agent.v1 import agent_pb2 as pb  # noqa: E402

def varint(n):
    b = bytearray()
    while True:
        c = n & 0x7F; n >>= 7
        b.append(c | (0x80 if n else 0))
        if not n: return bytes(b)

def seed(name, bearer, *messages):
    data = bytes([bearer]) + b"".join(varint(len(m.SerializeToString())) + m.SerializeToString() for m in messages)
    open("Fuzz/corpus/FuzzAgentReport/" + name, "wb").write(data)

M = pb.AgentMessage
definition = pb.CommandDefinition(name="restart", summary="Restart a service", confirm="template", confirm_text="Restart {{service}}?",
    timeout_seconds=60, mode="one", selector="env in (prd)", aliases=["rs"], digest="ab" * 32,
    arguments=[pb.ArgumentDefinition(name="service", type="choice", choices=["nginx", "redis"], required=True),
               pb.ArgumentDefinition(name="count", type="int", has_min=True, min=1, has_max=True, max=9, has_default=True, default="1"),
               pb.ArgumentDefinition(name="why", type="text", pattern="^[a-z ]+$", secret=True)])
register = M(register=pb.Register(agent_id="web-1", hostname="web-1.example", labels={"env": "prd", "role": "web"},
    commands=["deploy*", "restart"], slots=2, version="0.1.0", running=[pb.JobRef(job_id=4, attempt=1)]))
seed("session", 0, register, M(heartbeat=pb.Heartbeat(busy=1)), M(started=pb.JobStarted(job_id=4, attempt=1)),
     M(output=pb.JobOutput(job_id=4, attempt=1, offset=0, data=b"hello\n")),
     M(output=pb.JobOutput(job_id=4, attempt=1, offset=6, data=b"world\n")),
     M(result=pb.JobResult(job_id=4, attempt=1, status="succeeded", has_exit_code=True, exit_code=0, duration_seconds=0.5,
                           output_offset=12, output_tail=b"done\n")),
     M(result=pb.JobResult(job_id=5, attempt=2, status="failed", has_exit_code=True, exit_code=3, reason="exit 3")),
     M(rejected=pb.JobRejected(job_id=6, attempt=1, code="busy", reason="no free slot")),
     M(catalog=pb.Catalog(definitions=[definition])))
seed("token-in-register", 1, M(register=pb.Register(token="fuzz-agent-token", agent_id="db-1", slots=1)),
     M(output=pb.JobOutput(job_id=1, attempt=1, offset=(1 << 63) - 3, data=b"overflow")))
seed("wrong-token", 2, M(register=pb.Register(agent_id="web-2", slots=1)), M(heartbeat=pb.Heartbeat()))
seed("enrolled", 1, M(register=pb.Register(token="own", agent_id="enrolled", labels={"env": "fuzz"}, commands=["deploy*"], slots=3)),
     M(started=pb.JobStarted(job_id=8, attempt=1)))
seed("own-commands", 0, M(register=pb.Register(agent_id="pack-1", slots=4, own_commands_only=True, verifies_two_factor=True,
     definitions=[definition])), M(catalog=pb.Catalog()))
seed("not-register-first", 0, M(heartbeat=pb.Heartbeat(busy=2)), register)
seed("register-twice", 0, register, register)
seed("taken", 0, M(register=pb.Register(agent_id="taken", slots=1)))
seed("bad-slots", 0, M(register=pb.Register(agent_id="web-3", slots=0, labels={"Bad Key": "x"})))
