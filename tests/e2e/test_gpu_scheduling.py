"""What goes wrong on a one-GPU node, and how it shows: a missing toleration, more replicas than
GPUs, a RollingUpdate whose surge pod waits for the GPU its old pod holds. Each test deploys into a
namespace of its own and removes it, so none holds the T4 for the next."""

from __future__ import annotations

import copy
import json
import os
import subprocess
import time

from tests.e2e.cluster import (
    CONTEXT,
    T4,
    cluster_env,
    destroy,
    kubectl,
    kwok_stack,
    pods,
    scheduler_says,
    up,
    wait_for,
)
from tests.engine.cli import ROOT, policy_args, workspace
from tests.policy.corpus.builders import deployment, service


def test_without_the_toleration_up_fails_in_bounded_time_and_says_why(tmp_path, cluster):
    namespace = "shimmy-kwok-untolerated"
    ws = kwok_stack(tmp_path, cluster, namespace, tolerations=[], rolloutTimeoutMinutes=1)
    started = time.monotonic()
    result = up(ws, check=False)
    took = time.monotonic() - started
    try:
        assert result.returncode != 0
        assert took < 240, f"up took {took:.0f}s"
        output = " ".join((result.stdout + result.stderr).split())
        # The provider names the symptom; the pack's advisory, in the same output, names the cause.
        assert "'shimmy' timed out waiting to be Ready" in output, output[-3000:]
        assert "Deployment does not have minimum availability" in output
        assert "[advisory]  gpu-toleration" in (result.stdout + result.stderr)
        assert "does not tolerate the nvidia.com/gpu:NoSchedule taint" in output
        (pod,) = pods(cluster, namespace)
        assert pod["status"]["phase"] == "Pending" and "nodeName" not in pod["spec"]
        scheduler_says(cluster, namespace, "untolerated taint")
    finally:
        destroy(ws, cluster, namespace)


def test_two_replicas_on_one_t4_leave_the_second_pending(tmp_path, cluster):
    namespace = "shimmy-kwok-replicas"
    ws = kwok_stack(
        tmp_path, cluster, namespace, replicas=2, modelSource="pvc", modelExistingClaim="models",
        rolloutTimeoutMinutes=1,
    )  # fmt: skip
    # The claim a pvc stack expects already holds the model; here it appears once the namespace does.
    claim = {
        "apiVersion": "v1",
        "kind": "PersistentVolumeClaim",
        "metadata": {"name": "models", "namespace": namespace},
        "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "8Gi"}}},
    }
    command = ["pulumi", "up", "--yes", "--stack", "kwok", *policy_args("kwok"), "--non-interactive"]
    running = subprocess.Popen(
        command, cwd=ws.dir, env=ws.env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )
    env = {**os.environ, **cluster}
    try:
        exists = ["kubectl", "get", "namespace", namespace]
        wait_for(lambda: subprocess.run(exists, env=env, capture_output=True).returncode == 0, timeout=300)
        apply = ["kubectl", "apply", "-f", "-"]
        subprocess.run(apply, input=json.dumps(claim), text=True, env=env, check=True, capture_output=True)
        assert running.wait(timeout=600) != 0  # the second replica never becomes available
        placed = sorted((p["status"]["phase"], p["spec"].get("nodeName")) for p in pods(cluster, namespace))
        assert placed == [("Pending", None), ("Running", T4)]
        scheduler_says(cluster, namespace, "Insufficient nvidia.com/gpu")
    finally:
        running.kill()
        destroy(ws, cluster, namespace)


# --- the rollout-strategy advisory, shown on the cluster (tests/engine/program) ----------------


def gpu_deployment(image: str, strategy: dict) -> dict:
    manifest = deployment(image=image)
    manifest["metadata"]["annotations"] = {"pulumi.com/timeoutSeconds": "60"}
    manifest["spec"]["strategy"] = strategy
    pod = manifest["spec"]["template"]["spec"]
    pod["nodeSelector"] = {"nvidia.com/gpu.product": "Tesla-T4"}
    pod["tolerations"] = [{"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"}]
    return manifest


def test_a_rolling_update_waits_for_the_gpu_its_old_pod_holds(tmp_path, cluster):
    namespace = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "shimmy"}}
    surge = {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 1, "maxUnavailable": 0}}
    ws = workspace(tmp_path, ROOT / "tests" / "engine" / "program")
    ws.env.update(cluster_env(ws.env["PATH"]))
    ws.pulumi("config", "set", "kubeContext", CONTEXT)
    digest = "registry.example.com/ml/shimmy@sha256:"
    objects = [namespace, gpu_deployment(digest + "a" * 64, surge), service()]
    ws.pulumi("config", "set", "objects", json.dumps(objects))
    policy = ("--policy-pack", str(ROOT / "policy"))
    try:
        first = ws.pulumi("up", "--yes", *policy)
        assert "rollout-strategy" in first.stdout  # the advisory said so
        changed = copy.deepcopy(objects)
        changed[1] = gpu_deployment(digest + "b" * 64, surge)
        ws.pulumi("config", "set", "objects", json.dumps(changed))
        assert ws.pulumi("up", "--yes", *policy, check=False).returncode != 0
        # Stuck, not slow: the surge pod has no GPU to wait for, the old pod keeps it and serves.
        by_image = {p["spec"]["containers"][0]["image"][-1]: p for p in pods(cluster, "shimmy")}
        assert by_image["a"]["status"]["phase"] == "Running" and by_image["a"]["spec"]["nodeName"] == T4
        assert by_image["b"]["status"]["phase"] == "Pending" and "nodeName" not in by_image["b"]["spec"]
        scheduler_says(cluster, "shimmy", "Insufficient nvidia.com/gpu")
        status = json.loads(kubectl(cluster, "-n", "shimmy", "get", "deployment", "shimmy", "-o", "json"))
        assert (status["status"]["updatedReplicas"], status["status"]["availableReplicas"]) == (1, 1)
    finally:
        ws.pulumi("destroy", "--yes")
