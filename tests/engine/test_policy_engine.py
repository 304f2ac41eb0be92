"""The policy pack on the real engine, judging real pulumi_kubernetes resources (tests/engine/program).

These are the refusals a user meets: `pulumi preview --policy-pack policy` exits non-zero and the
output names the policy and the resource. The stack rule sees real Deployments and Services.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest

from tests.engine.cli import ROOT, Workspace, workspace

PROGRAM = Path(__file__).parent / "program"
POLICY = ("--policy-pack", str(ROOT / "policy"))
IMAGE = "registry.example.com/ml/shimmy@sha256:" + "a" * 64
ARGS = ["serve", "--bind", "0.0.0.0:8081", "--gpu-backend", "cuda", "--model-path", "/models/a.gguf"]
LABELS = {"app.kubernetes.io/name": "shimmy"}


def shimmy_deployment() -> dict:
    """A Deployment that keeps every rule."""
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "shimmy", "namespace": "shimmy"},
        "spec": {
            "strategy": {"type": "Recreate"},
            "selector": {"matchLabels": LABELS},
            "template": {
                "metadata": {"labels": LABELS},
                "spec": {
                    "containers": [
                        {
                            "name": "shimmy",
                            "image": IMAGE,
                            "args": ARGS,
                            "ports": [{"name": "http", "containerPort": 8081}],
                            "resources": {"limits": {"nvidia.com/gpu": "1"}},
                            "securityContext": {
                                "runAsNonRoot": True,
                                "allowPrivilegeEscalation": False,
                                "capabilities": {"drop": ["ALL"]},
                                "seccompProfile": {"type": "RuntimeDefault"},
                            },
                            "readinessProbe": {"httpGet": {"path": "/health", "port": "http"}},
                            "livenessProbe": {"httpGet": {"path": "/health", "port": "http"}},
                        }
                    ]
                },
            },
        },
    }


def shimmy_service(target_port: int = 8081) -> dict:
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": "shimmy", "namespace": "shimmy"},
        "spec": {"selector": LABELS, "ports": [{"name": "http", "port": 80, "targetPort": target_port}]},
    }


def container(deployment: dict) -> dict:
    return deployment["spec"]["template"]["spec"]["containers"][0]


@pytest.fixture(scope="module")
def ws(tmp_path_factory) -> Workspace:
    return workspace(tmp_path_factory.mktemp("policy-engine"), PROGRAM)


def preview(ws: Workspace, *objects: dict):
    ws.pulumi("config", "set", "objects", json.dumps(list(objects)))
    return ws.pulumi("preview", *POLICY, check=False)


def test_a_deployment_and_service_that_keep_every_rule_pass(ws):
    result = preview(ws, shimmy_deployment(), shimmy_service())
    assert result.returncode == 0, result.stdout + result.stderr
    assert "+ kubernetes:apps/v1:Deployment shimmy create" in " ".join(result.stdout.split())
    assert "[mandatory]" not in result.stdout and "[advisory]" not in result.stdout


def without_gpu_limit() -> dict:
    deployment = shimmy_deployment()
    container(deployment)["resources"] = {"limits": {"cpu": "4"}}
    return deployment


def without_gpu_flag() -> dict:
    deployment = shimmy_deployment()
    container(deployment)["args"] = ["serve", "--bind", "0.0.0.0:8081", "--model-path", "/models/a.gguf"]
    return deployment


@pytest.mark.parametrize(
    ("policy", "deployment", "message"),
    [
        ("gpu-resource", without_gpu_limit, "resources.limits has no nvidia.com/gpu"),
        ("gpu-backend-flag", without_gpu_flag, "no --gpu-backend flag"),
    ],
    ids=["without-gpu-limit", "without-gpu-flag"],
)
def test_the_engine_refuses_the_preview_naming_policy_resource_and_container(ws, policy, deployment, message):
    result = preview(ws, deployment(), shimmy_service())
    assert result.returncode != 0
    assert f"[mandatory]  {policy}  (kubernetes:apps/v1:Deployment: shimmy)" in result.stdout
    assert f'Deployment "shimmy" container "shimmy": {message}' in " ".join(result.stdout.split())


def test_the_stack_rule_refuses_a_service_that_targets_another_port(ws):
    result = preview(ws, shimmy_deployment(), shimmy_service(target_port=9000))
    assert result.returncode != 0
    assert "[mandatory]  shimmy-service  (kubernetes:core/v1:Service: shimmy)" in result.stdout
    assert "no port targets 8081" in result.stdout


def test_the_stack_rule_refuses_a_deployment_without_any_service(ws):
    result = preview(ws, shimmy_deployment())
    assert result.returncode != 0
    assert "[mandatory]  shimmy-service  (kubernetes:apps/v1:Deployment: shimmy)" in result.stdout


def test_a_second_service_does_not_hide_a_wrong_one_for_another_workload(ws):
    other = copy.deepcopy(shimmy_deployment())
    other["metadata"]["name"] = "shimmy-b"
    other["spec"]["template"]["metadata"]["labels"] = {"app.kubernetes.io/name": "shimmy-b"}
    other["spec"]["selector"]["matchLabels"] = {"app.kubernetes.io/name": "shimmy-b"}
    result = preview(ws, shimmy_deployment(), shimmy_service(), other)
    assert result.returncode != 0
    assert "[mandatory]  shimmy-service  (kubernetes:apps/v1:Deployment: shimmy-b)" in result.stdout
