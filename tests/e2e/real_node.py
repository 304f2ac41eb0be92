"""The local stack on the cluster's real node, deployed in a namespace of its own, and client pods
that call its Service: the pod as prod declares it (gate in front, the model verified by sha256 in
the init container, NetworkPolicy, restricted Pod Security) with the real Gemma 3 270M, on CPU.

Clients are pods in the stack's namespace calling the Service's ClusterIP (there is no cluster DNS),
as the `smokeTest` export does.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from itertools import count
from pathlib import Path
from typing import Any

from tests.e2e.cluster import cluster_env, kubectl
from tests.engine.cli import ROOT, Workspace, policy_args, workspace
from tests.engine.stacks import stack_file, write_stack

CLIENT_LABELS = {"shimmy-gpu/client": "true"}
MODEL = "gemma-3-270m-q4_k_m"
_names = count()


def pod_images() -> dict[str, str]:
    """The gate's and the fetcher's images by digest, as scripts/up.sh pins them."""
    out = subprocess.run(
        ["bash", "scripts/base-images.sh", "pod"], cwd=ROOT, check=True, capture_output=True, text=True
    ).stdout
    return dict(line.split(": ", 1) for line in out.splitlines())


@dataclass
class Deployed:
    ws: Workspace
    up: subprocess.CompletedProcess
    namespace: str
    cluster: dict[str, str]

    def pulumi(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        return self.ws.pulumi(*args, "--stack", "local", check=check)

    def outputs(self) -> dict[str, Any]:
        return json.loads(self.pulumi("stack", "output", "--json").stdout)


@contextmanager
def deployed_stack(base: Path, cluster: dict[str, str], namespace: str, **config: Any) -> Iterator[Deployed]:
    """`pulumi up` of the local stack with the pack, in `namespace`; destroyed after, and checked
    to have left nothing: the namespace (and all in it) gone, its claim's volume freed."""
    ws = workspace(base, ROOT, ("local",))
    ws.env.update(cluster_env(ws.env["PATH"]))
    write_stack(ws, "local", {**stack_file("local"), **pod_images(), "namespace": namespace, **config})
    up = ws.pulumi("up", "--yes", "--stack", "local", *policy_args("local"))
    yield Deployed(ws, up, namespace, cluster)
    ws.pulumi("destroy", "--yes", "--stack", "local")
    gone = subprocess.run(
        ["kubectl", "get", "namespace", namespace], env={**os.environ, **cluster}, capture_output=True
    )
    assert gone.returncode != 0, "pulumi destroy left the namespace"
    volumes = json.loads(kubectl(cluster, "get", "pv", "-o", "json"))["items"]
    assert not [v for v in volumes if (v["spec"].get("claimRef") or {}).get("namespace") == namespace
                and v["status"]["phase"] == "Bound"]  # fmt: skip
    subprocess.run(["bash", "scripts/cluster.sh", "reset-volumes"], cwd=ROOT, check=True, capture_output=True)


def client_name() -> str:
    return f"client-{next(_names)}"


def client_command(
    deployed: Deployed, script: str, labels: dict[str, str] | None = CLIENT_LABELS, name: str = ""
) -> list[str]:
    """kubectl running `script` (sh) in a restricted pod of the namespace (`name`, or a new one),
    with the Service's address in $SVC."""
    name = name or client_name()
    fetcher = re.search(r"--image=(\S+)", deployed.outputs()["smokeTest"]).group(1)
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
    command = ["kubectl", "-n", deployed.namespace, "run", name, "--rm", "-i", "--quiet", "--restart=Never",
               f"--image={fetcher}", "--override-type=strategic",
               f"--overrides={json.dumps(overrides)}"]  # fmt: skip
    if labels:
        command.append("--labels=" + ",".join(f"{k}={v}" for k, v in labels.items()))
    setup = 'SVC="http://${SHIMMY_SERVICE_HOST}:${SHIMMY_SERVICE_PORT}"; '
    return [*command, "--command", "--", "sh", "-c", setup + script]


def client(
    deployed: Deployed, script: str, labels: dict[str, str] | None = CLIENT_LABELS, timeout: int = 300
) -> tuple[int, str]:
    """Run `script` in a client pod (client_command); its exit status and output."""
    env = {**os.environ, **deployed.cluster}
    result = subprocess.run(
        client_command(deployed, script, labels), env=env, capture_output=True, text=True, timeout=timeout
    )
    return result.returncode, result.stdout + result.stderr


# Retried while the NetworkPolicy controller has not admitted the new pod yet (refused, as an
# unlabelled pod stays).
ADMITTED = "curl -sS -o /dev/null --retry 20 --retry-connrefused --retry-delay 1 --max-time 5 $SVC/health"


def generation_body(max_tokens: int) -> str:
    return json.dumps({"model": MODEL, "prompt": "Count to ten.", "max_tokens": max_tokens, "stream": False})


def generate(max_tokens: int) -> str:
    body = generation_body(max_tokens)
    return f"curl -sS -i --max-time 300 -H 'Content-Type: application/json' -d '{body}' $SVC/api/generate"


def when(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))
