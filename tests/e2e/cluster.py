"""Helpers of the end-to-end tests: the local control plane (scripts/cluster.sh), its kubectl, and
the kwok stack in a workspace of its own."""

from __future__ import annotations

import json
import os
import subprocess
import time

from tests.engine.cli import ROOT, Workspace, policy_args, workspace
from tests.engine.stacks import on_this_machine, write_stack

CONTEXT = "shimmy-kwok"
T4 = "kwok-t4-0"


def cluster_env(path: str = os.environ["PATH"]) -> dict[str, str]:
    """KUBECONFIG and `path` with the cluster's own kubectl first (scripts/cluster.sh env)."""
    out = subprocess.run(["bash", "scripts/cluster.sh", "env"], cwd=ROOT, capture_output=True, text=True)
    env = {}
    for line in out.stdout.splitlines():
        key, value = line.removeprefix("export ").split("=", 1)
        env[key] = value.replace("$PATH", path)
    return env


def kubectl(cluster: dict[str, str], *args: str) -> str:
    result = subprocess.run(
        ["kubectl", *args], env={**os.environ, **cluster}, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


def pods(cluster: dict[str, str], namespace: str) -> list[dict]:
    return json.loads(kubectl(cluster, "-n", namespace, "get", "pods", "-o", "json"))["items"]


def scheduling_failures(cluster: dict[str, str], namespace: str) -> list[str]:
    events = json.loads(kubectl(cluster, "-n", namespace, "get", "events", "-o", "json"))["items"]
    return [e["message"] for e in events if e["reason"] == "FailedScheduling"]


def wait_for(predicate, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.5)


def scheduler_says(cluster: dict[str, str], namespace: str, words: str, timeout: float = 120) -> None:
    """Wait until a FailedScheduling event in `namespace` contains `words`: the scheduler may first
    report another reason (a claim not there yet) and says the next one when it retries."""
    wait_for(lambda: any(words in m for m in scheduling_failures(cluster, namespace)), timeout)


def kwok_stack(base, cluster: dict[str, str], namespace: str, **overrides) -> Workspace:
    """The kwok stack (prod's shape) in a workspace of its own, in `namespace`."""
    ws = workspace(base, ROOT, ("kwok",))
    ws.env.update(cluster_env(ws.env["PATH"]))
    config = on_this_machine(
        "kwok",
        renderManifestsTo="",
        imageRepository="shimmy-e2e/shimmy",
        namespace=namespace,
        **overrides,
    )
    write_stack(ws, "kwok", config)
    return ws


def up(ws: Workspace, check: bool = True):
    return ws.pulumi("up", "--yes", "--stack", "kwok", *policy_args("kwok"), check=check)


def destroy(ws: Workspace, cluster: dict[str, str], namespace: str) -> None:
    ws.pulumi("destroy", "--yes", "--stack", "kwok")
    missing = subprocess.run(
        ["kubectl", "get", "namespace", namespace], env={**os.environ, **cluster}, capture_output=True
    )
    assert missing.returncode != 0  # the namespace is gone, and all in it
    subprocess.run(["bash", "scripts/cluster.sh", "reset-volumes"], cwd=ROOT, check=True, capture_output=True)
