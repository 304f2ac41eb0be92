"""The local stack on the cluster's real node (scripts/cluster/node.sh): the pod as prod declares it
(gate in front, the model verified by sha256 in the init container, NetworkPolicy, restricted Pod
Security) runs for real, with the real Gemma 3 270M, on CPU. One deployment serves the module; its
gate admits one generation and queues none, so a second at once is overload.

Clients are pods in the stack's namespace calling the Service's ClusterIP (there is no cluster DNS),
as the `smokeTest` export does.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
from datetime import datetime
from itertools import count

import pytest

from tests.e2e.cluster import cluster_env, kubectl, pods
from tests.engine.cli import ROOT, policy_args, workspace
from tests.engine.stacks import stack_file, write_stack

NAMESPACE = "shimmy-e2e-real"
CLIENT_LABELS = {"shimmy-gpu/client": "true"}
_names = count()


def pod_images() -> dict[str, str]:
    """The gate's and the fetcher's images by digest, as scripts/up.sh pins them."""
    out = subprocess.run(
        ["bash", "scripts/base-images.sh", "pod"], cwd=ROOT, check=True, capture_output=True, text=True
    ).stdout
    return dict(line.split(": ", 1) for line in out.splitlines())


@pytest.fixture(scope="module")
def deployed(tmp_path_factory, cluster):
    ws = workspace(tmp_path_factory.mktemp("real"), ROOT, ("local",))
    ws.env.update(cluster_env(ws.env["PATH"]))
    config = {**stack_file("local"), **pod_images(), "namespace": NAMESPACE}
    config |= {"maxConcurrentRequests": 1, "requestQueue": 0}
    write_stack(ws, "local", config)
    up = ws.pulumi("up", "--yes", "--stack", "local", *policy_args("local"))
    yield ws, up
    ws.pulumi("destroy", "--yes", "--stack", "local")
    # Nothing of the stack is left: its namespace (and all in it) is gone, its claim's volume freed.
    gone = subprocess.run(
        ["kubectl", "get", "namespace", NAMESPACE], env={**os.environ, **cluster}, capture_output=True
    )
    assert gone.returncode != 0, "pulumi destroy left the namespace"
    volumes = json.loads(kubectl(cluster, "get", "pv", "-o", "json"))["items"]
    assert not [v for v in volumes if (v["spec"].get("claimRef") or {}).get("namespace") == NAMESPACE
                and v["status"]["phase"] == "Bound"]  # fmt: skip
    subprocess.run(["bash", "scripts/cluster.sh", "reset-volumes"], cwd=ROOT, check=True, capture_output=True)


def client(cluster, deployed, script: str, labels: dict[str, str] | None = CLIENT_LABELS, timeout: int = 300):
    """Run `script` (sh) in a restricted pod of the namespace, with the Service's address in $SVC;
    its exit status and output."""
    ws, _ = deployed
    name = f"client-{next(_names)}"
    image = json.loads(ws.pulumi("stack", "output", "--json", "--stack", "local").stdout)
    fetcher = re.search(r"--image=(\S+)", image["smokeTest"]).group(1)
    overrides = {
        "spec": {
            "automountServiceAccountToken": False,
            "securityContext": {"runAsNonRoot": True, "runAsUser": 10001, "runAsGroup": 10001,
                                "seccompProfile": {"type": "RuntimeDefault"}},
            "containers": [{"name": name, "securityContext": {
                "allowPrivilegeEscalation": False, "readOnlyRootFilesystem": True,
                "capabilities": {"drop": ["ALL"]}}}],
        }
    }  # fmt: skip
    command = ["kubectl", "-n", NAMESPACE, "run", name, "--rm", "-i", "--quiet", "--restart=Never",
               f"--image={fetcher}", "--override-type=strategic",
               f"--overrides={json.dumps(overrides)}"]  # fmt: skip
    if labels:
        command.append("--labels=" + ",".join(f"{k}={v}" for k, v in labels.items()))
    setup = 'SVC="http://${SHIMMY_SERVICE_HOST}:${SHIMMY_SERVICE_PORT}"; '
    command += ["--command", "--", "sh", "-c", setup + script]
    env = {**os.environ, **cluster}
    result = subprocess.run(command, env=env, capture_output=True, text=True, timeout=timeout)
    return result.returncode, result.stdout + result.stderr


# Retried while the NetworkPolicy controller has not admitted the new pod yet (refused, as an
# unlabelled pod stays).
ADMITTED = "curl -sS -o /dev/null --retry 20 --retry-connrefused --retry-delay 1 --max-time 5 $SVC/health"


def generate(max_tokens: int) -> str:
    body = json.dumps({"model": "gemma-3-270m-q4_k_m", "prompt": "Count to ten.", "max_tokens": max_tokens,
                       "stream": False})  # fmt: skip
    return f"curl -sS -i --max-time 300 -H 'Content-Type: application/json' -d '{body}' $SVC/api/generate"


def when(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def test_up_returns_once_the_probes_have_passed(deployed, cluster):
    _, up = deployed
    assert "[mandatory]" not in up.stdout
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
    rc, out = client(cluster, deployed, f"{ADMITTED} && {generate(20)} && curl -sS $SVC/gate")
    assert rc == 0, out
    assert "HTTP/1.1 200" in out
    reply = json.loads(out[out.index('{"response"') : out.index("}", out.index('{"response"')) + 1])
    assert reply["response"].strip()
    gate = json.loads(out[out.rindex('{"limit"') :])
    assert gate["served"] >= 1 and gate["limit"] == 1


def test_the_network_policy_refuses_an_unlabelled_pod_and_admits_a_labelled_one(deployed, cluster):
    rc, out = client(cluster, deployed, f"{ADMITTED} && curl -sS --max-time 5 $SVC/gate", labels=None)
    assert rc != 0 and "Failed to connect" in out, out
    rc, out = client(cluster, deployed, f"{ADMITTED} && curl -sS --max-time 5 $SVC/gate")
    assert rc == 0 and '"limit": 1' in out, out


def test_overload_gets_the_gates_503_with_retry_after(deployed, cluster):
    # The first generation holds the gate's one slot for seconds; the second, sent meanwhile, finds
    # no slot and no queue.
    script = f"{ADMITTED} && ({generate(200)} >/dev/null 2>&1 &) && sleep 2 && {generate(5)}"
    rc, out = client(cluster, deployed, script)
    assert rc == 0, out
    assert "HTTP/1.1 503" in out and re.search(r"(?im)^Retry-After: \d+", out), out
    assert "queue full" in out
