"""A model whose sha256 does not match, on the real node: the init container refuses it (and cannot
download another: pods here reach no network), the pod never becomes Ready, and `pulumi up` fails
within rolloutTimeoutMinutes, saying why. Runs after test_real_node.py gave the node's GPU back."""

from __future__ import annotations

import subprocess
import time

from tests.e2e.cluster import cluster_env, pods
from tests.e2e.real_node import pod_images
from tests.engine.cli import ROOT, policy_args, workspace
from tests.engine.stacks import stack_file, write_stack

NAMESPACE = "shimmy-e2e-badmodel"


def test_a_wrong_sha256_fails_the_init_container_and_up_in_bounded_time(tmp_path, cluster):
    ws = workspace(tmp_path, ROOT, ("local",))
    ws.env.update(cluster_env(ws.env["PATH"]))
    config = {**stack_file("local"), **pod_images(), "namespace": NAMESPACE}
    config |= {"modelSha256": "0" * 64, "rolloutTimeoutMinutes": 1}
    write_stack(ws, "local", config)
    started = time.monotonic()
    result = ws.pulumi("up", "--yes", "--stack", "local", *policy_args("local"), check=False)
    took = time.monotonic() - started
    try:
        output = " ".join((result.stdout + result.stderr).split())
        assert result.returncode != 0
        assert took < 240, f"up took {took:.0f}s: {output[-3000:]}"
        assert "'shimmy' timed out waiting to be Ready" in output, output[-3000:]
        (pod,) = pods(cluster, NAMESPACE)
        ready = {c["type"]: c["status"] for c in pod["status"]["conditions"]}
        assert ready["Ready"] == "False" and ready["Initialized"] == "False"
        (init,) = pod["status"]["initContainerStatuses"]
        last = init.get("lastState", {}).get("terminated") or init["state"].get("terminated")
        assert last and last["exitCode"] != 0
    finally:
        ws.pulumi("destroy", "--yes", "--stack", "local")
        # The init container removed the refused file: reset-volumes puts the model back.
        reset = ["bash", "scripts/cluster.sh", "reset-volumes"]
        subprocess.run(reset, cwd=ROOT, check=True, capture_output=True)
