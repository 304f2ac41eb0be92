"""The kwok stack as shipped, on the real engine against a real Kubernetes API server
(scripts/cluster.sh: kube-apiserver, controller manager and scheduler, etcd, kwok's simulated T4 and
CPU nodes). Its module-scoped deployment holds the one T4 until this module ends.

Real: the Pulumi CLI and plugins, the policy pack in every `up`, the Docker engine and registry, the
API server's admission (Pod Security "restricted"), the scheduler's taints, selectors and GPU
counts, the Deployment controller, the provider's await logic, refresh and destroy. Simulated: kwok
runs no container (no image pull, no probe, no GPU); the cuda image is built with the stand-in
compiler of tests/engine/stacks.py.
"""

from __future__ import annotations

import json

import pytest

from tests.e2e.cluster import T4, destroy, kubectl, kwok_stack, pods, up


@pytest.fixture(scope="module")
def deployed(tmp_path_factory, cluster):
    ws = kwok_stack(tmp_path_factory.mktemp("kwok"), cluster, "shimmy-kwok")
    result = up(ws)
    yield ws, result
    destroy(ws, cluster, "shimmy-kwok")


def test_up_waits_until_shimmy_is_available_on_the_t4_node(deployed, cluster):
    _, result = deployed
    assert "Policies:" in result.stdout and "[mandatory]" not in result.stdout
    status = json.loads(kubectl(cluster, "-n", "shimmy-kwok", "get", "deployment", "shimmy", "-o", "json"))
    assert status["status"]["availableReplicas"] == 1
    (pod,) = pods(cluster, "shimmy-kwok")
    assert pod["spec"]["nodeName"] == T4
    assert pod["status"]["phase"] == "Running"


def test_the_service_has_the_pod_as_its_endpoint(deployed, cluster):
    (pod,) = pods(cluster, "shimmy-kwok")
    selector = "kubernetes.io/service-name=shimmy"
    found = kubectl(cluster, "-n", "shimmy-kwok", "get", "endpointslices", "-l", selector, "-o", "json")
    slices = json.loads(found)["items"]
    addresses = [a for s in slices for e in s.get("endpoints") or [] for a in e["addresses"]]
    assert addresses == [pod["status"]["podIP"]]
    ports = [p["port"] for s in slices for p in s.get("ports") or []]
    assert ports == [8081]  # the gate's port, which the Service targets


def test_refresh_finds_no_drift(deployed):
    ws, _ = deployed
    ws.pulumi("refresh", "--yes", "--stack", "kwok", "--expect-no-changes")


def test_a_new_digest_rolls_out_by_recreate_on_the_one_gpu_node(deployed, cluster):
    ws, _ = deployed
    before = ws.pulumi("stack", "output", "image", "--stack", "kwok").stdout.strip()
    ws.pulumi("config", "set", "--stack", "kwok", "--path", "cudaArchitectures[1]", "86", "--type", "string")
    up(ws)
    after = ws.pulumi("stack", "output", "image", "--stack", "kwok").stdout.strip()
    assert after != before
    (pod,) = pods(cluster, "shimmy-kwok")  # the old pod is gone, the new one holds the GPU
    (shimmy,) = [c for c in pod["spec"]["containers"] if c["name"] == "shimmy"]
    assert shimmy["image"] == after and pod["spec"]["nodeName"] == T4
