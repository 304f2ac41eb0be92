"""The local stack on the cluster's real node (tests/e2e/real_node.py): the pod as prod declares it
runs for real. One deployment serves the module; its gate admits one generation and queues none, so
a second at once is overload.
"""

from __future__ import annotations

import json
import re

import pytest

from tests.e2e.cluster import kubectl, pods
from tests.e2e.real_node import ADMITTED, client, deployed_stack, generate, when

NAMESPACE = "shimmy-e2e-real"


@pytest.fixture(scope="module")
def deployed(tmp_path_factory, cluster):
    with deployed_stack(
        tmp_path_factory.mktemp("real"), cluster, NAMESPACE, maxConcurrentRequests=1, requestQueue=0
    ) as stack:
        yield stack


def test_up_returns_once_the_probes_have_passed(deployed, cluster):
    assert "[mandatory]" not in deployed.up.stdout
    deployment = json.loads(kubectl(cluster, "-n", NAMESPACE, "get", "deployment", "shimmy", "-o", "json"))
    assert deployment["status"]["availableReplicas"] == 1
    (pod,) = pods(cluster, NAMESPACE)
    assert pod["spec"]["nodeName"] == "real-cpu-0"
    statuses = {c["name"]: c for c in pod["status"]["containerStatuses"]}
    assert all(c["ready"] and c["started"] for c in statuses.values())
    (init,) = pod["status"]["initContainerStatuses"]
    assert init["state"]["terminated"]["exitCode"] == 0  # the model's sha256 matched
    ready = {c["type"]: when(c["lastTransitionTime"]) for c in pod["status"]["conditions"]}["Ready"]
    available = {c["type"]: when(c["lastTransitionTime"]) for c in deployment["status"]["conditions"]}
    started = when(statuses["shimmy"]["state"]["running"]["startedAt"])
    assert started <= ready <= available["Available"]


def test_generate_answers_through_the_service_and_the_gate(deployed, cluster):
    rc, out = client(deployed, f"{ADMITTED} && {generate(20)} && curl -sS $SVC/gate")
    assert rc == 0, out
    assert "HTTP/1.1 200" in out
    reply = json.loads(out[out.index('{"response"') : out.index("}", out.index('{"response"')) + 1])
    assert reply["response"].strip()
    gate = json.loads(out[out.rindex('{"limit"') :])
    assert gate["served"] >= 1 and gate["limit"] == 1


def test_the_network_policy_refuses_an_unlabelled_pod_and_admits_a_labelled_one(deployed, cluster):
    rc, out = client(deployed, f"{ADMITTED} && curl -sS --max-time 5 $SVC/gate", labels=None)
    assert rc != 0 and "Failed to connect" in out, out
    rc, out = client(deployed, f"{ADMITTED} && curl -sS --max-time 5 $SVC/gate")
    assert rc == 0 and '"limit": 1' in out, out


def test_overload_gets_the_gates_503_with_retry_after(deployed, cluster):
    # The first generation holds the gate's one slot for seconds; the second, sent meanwhile, finds
    # no slot and no queue.
    script = f"{ADMITTED} && ({generate(200)} >/dev/null 2>&1 &) && sleep 2 && {generate(5)}"
    rc, out = client(deployed, script)
    assert rc == 0, out
    assert "HTTP/1.1 503" in out and re.search(r"(?im)^Retry-After: \d+", out), out
    assert "queue full" in out
