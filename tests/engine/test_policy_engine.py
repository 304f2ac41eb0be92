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
from tests.policy.corpus import builders, kinds
from tests.policy.corpus.builders import container

PROGRAM = Path(__file__).parent / "program"
POLICY = ("--policy-pack", str(ROOT / "policy"))


def shimmy_deployment() -> dict:
    return builders.deployment()


def shimmy_service(target_port: int = 8081) -> dict:
    return builders.service(target_port)


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


# --- any kind that runs pods (declared as typed resources or apiextensions.CustomResource) -------

ENGINE_KINDS = ("replicationcontroller", "podtemplate", "argo-rollout", "kserve-model", "knative-service")
TOKENS = {
    "replicationcontroller": "kubernetes:core/v1:ReplicationController",
    "podtemplate": "kubernetes:core/v1:PodTemplate",
    "argo-rollout": "kubernetes:argoproj.io/v1alpha1:Rollout",
    "kserve-model": "kubernetes:serving.kserve.io/v1beta1:InferenceService",
    "knative-service": "kubernetes:serving.knative.dev/v1:Service",
}


def with_service(kind: str, workload: dict) -> list[dict]:
    return [workload] if kind in kinds.WITHOUT_SERVICE else [workload, shimmy_service()]


@pytest.mark.parametrize("kind", ENGINE_KINDS)
def test_a_correct_workload_of_any_kind_passes(ws, kind):
    result = preview(ws, *with_service(kind, kinds.KINDS[kind]()))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "[mandatory]" not in result.stdout


@pytest.mark.parametrize("kind", ENGINE_KINDS)
@pytest.mark.parametrize(
    ("policy", "fields"), [("gpu-resource", kinds.WITHOUT_GPU), ("gpu-backend-flag", kinds.WITHOUT_FLAG)]
)
def test_a_workload_of_any_kind_without_gpu_or_flag_is_refused(ws, kind, policy, fields):
    result = preview(ws, *with_service(kind, kinds.KINDS[kind](**fields)))
    assert result.returncode != 0
    assert f"[mandatory]  {policy}  ({TOKENS[kind]}: llm)" in result.stdout
