"""The pack as `pulumi` starts it: `python -m pulumi.policy <engine> policy`, answering over gRPC."""

import subprocess
import sys

import grpc
import pytest
from google.protobuf import empty_pb2
from pulumi.runtime import proto
from pulumi.runtime.proto import analyzer_pb2_grpc
from shimmy_policy.registry import RULES

from tests.policy.corpus.builders import DEPLOYMENT, deployment
from tests.policy.engine import struct


@pytest.fixture(scope="module")
def analyzer_stub(policy_dir):
    # The engine address is only used by programs that call back; the pack prints the port it serves.
    pack = subprocess.Popen(
        [sys.executable, "-u", "-m", "pulumi.policy", "127.0.0.1:1", str(policy_dir)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        port = pack.stdout.readline().strip()
        assert port.isdigit(), pack.stderr.read()
        with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
            yield analyzer_pb2_grpc.AnalyzerStub(channel)
    finally:
        pack.terminate()
        pack.wait(timeout=10)


def test_pack_process_serves_every_rule(analyzer_stub):
    info = analyzer_stub.GetAnalyzerInfo(empty_pb2.Empty())
    assert info.name == "shimmy-gpu"
    assert [p.name for p in info.policies] == [rule.name for rule in RULES]


def test_pack_process_refuses_a_deployment_without_gpu(analyzer_stub):
    props = deployment(resources={"limits": {"cpu": "1"}})
    request = proto.AnalyzeRequest(type=DEPLOYMENT, name="shimmy", urn="urn:x", properties=struct(props))
    response = analyzer_stub.Analyze(request)
    assert [(d.policyName, d.enforcementLevel) for d in response.diagnostics] == [
        ("gpu-resource", proto.MANDATORY)
    ]
