"""The shipped program on the real engine: the pinned CLI, its Python host, the docker and kubernetes
plugins and the policy pack, in a copy of the work tree with its own file backend.

- dev and prod point at a registry and clusters that do not exist here: their previews still run
  (the kubernetes provider diffs inputs against state when it cannot reach a cluster; pulumi-docker
  builds nothing on preview), and they pass the pack. They do need a Docker daemon, which
  pulumi-docker pings when it is configured: without one the preview fails.
- local really builds the cpu image with BuildKit on the project's Docker engine, pushes it to
  127.0.0.1:5000 and renders the manifests; the tests then change config and read the diffs.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
import yaml

from tests.engine.cli import ROOT, Workspace, changed_lines, policy_args, workspace
from tests.engine.stacks import on_this_machine, write_stack

STACKS = ("dev", "prod", "local")
PASSWORD = "registry-password-7f3a9c"
DEPLOYMENT = "kubernetes:apps/v1:Deployment"
IMAGE = "docker:index/image:Image"


def up(ws: Workspace, stack: str, *args: str):
    return ws.pulumi("up", "--yes", "--stack", stack, *policy_args(stack), *args)


def rendered_shimmy_image(ws: Workspace) -> str:
    """The image of the shimmy container in the rendered Deployment (the gate runs beside it)."""
    (path,) = (ws.dir / "rendered" / "1-manifest").glob("apps_v1-deployment-*.yaml")
    containers = yaml.safe_load(path.read_text())["spec"]["template"]["spec"]["containers"]
    (shimmy,) = [c for c in containers if c["name"] == "shimmy"]
    return shimmy["image"]


def state_resources(ws: Workspace, stack: str) -> list[dict]:
    exported = json.loads(ws.pulumi("stack", "export", "--stack", stack).stdout)
    return exported["deployment"].get("resources") or []


@pytest.fixture(scope="module")
def previews(tmp_path_factory) -> Workspace:
    return workspace(tmp_path_factory.mktemp("previews"), ROOT, STACKS)


@pytest.mark.parametrize("stack", STACKS)
def test_preview_of_every_stack_passes_the_policy_pack(previews, stack):
    result = previews.pulumi("preview", "--stack", stack, *policy_args(stack))
    assert "[mandatory]" not in result.stdout
    # The Stack, ShimmyImage and GpuInferenceService, the kubernetes provider, the Image, and the
    # Namespace, model claim, gate ConfigMap, Service, NetworkPolicy, Deployment and the patch that
    # waits for its rollout; prod adds Monitoring with its PodMonitor, PrometheusRule and dashboard
    # ConfigMap.
    expected = 16 if stack == "prod" else 12
    assert f"+ {expected} to create" in result.stdout


def test_a_preview_without_a_docker_daemon_fails_at_the_docker_provider(previews):
    # pulumi-docker 5.1.0 pings the daemon in its provider's Configure, even for a preview that
    # builds nothing (docs/ci-and-previews.md); the kubernetes side and the pack never run.
    no_daemon = Workspace(previews.dir, {**previews.env, "DOCKER_HOST": "unix:///nonexistent/docker.sock"})
    result = no_daemon.pulumi("preview", "--stack", "dev", *policy_args("dev"), check=False)
    assert result.returncode == 1
    assert (
        "error: docker native provider returned an unexpected error from Configure: "
        "failed to connect to any docker daemon" in result.stdout
    )
    assert "kubernetes:apps/v1:Deployment shimmy create" not in result.stdout


def test_the_cpu_profile_on_a_gpu_stack_is_refused_naming_policy_and_deployment(previews):
    previews.pulumi("config", "set", "--stack", "dev", "accelerator", "cpu")
    for index, feature in enumerate(("huggingface", "llama")):
        previews.pulumi("config", "set", "--stack", "dev", "--path", f"cargoFeatures[{index}]", feature)
    try:
        result = previews.pulumi("preview", "--stack", "dev", *policy_args("dev"), check=False)
    finally:
        previews.pulumi("config", "rm", "--stack", "dev", "accelerator")
        previews.pulumi("config", "rm", "--stack", "dev", "cargoFeatures")
    assert result.returncode != 0
    assert "[mandatory]  gpu-backend-flag  (kubernetes:apps/v1:Deployment: shimmy)" in result.stdout
    assert "[mandatory]  cuda-image  (docker:index:Image: shimmy)" in result.stdout


@pytest.fixture(scope="module")
def local(tmp_path_factory) -> Workspace:
    """The local stack after a real `pulumi up`, rendered to files instead of applied to the local
    cluster, with a registry login whose password is a secret, and the model on an existing claim
    (so that replicas may change)."""
    ws = workspace(tmp_path_factory.mktemp("local"), ROOT, ("local",))
    ws.pulumi("config", "rm", "--stack", "local", "kubeContext")
    for key, value in (
        ("renderManifestsTo", "rendered"),
        ("registryUsername", "ci-bot"),
        ("modelSource", "pvc"),
        ("modelExistingClaim", "models"),
    ):
        ws.pulumi("config", "set", "--stack", "local", key, value)
    ws.pulumi("config", "set", "--stack", "local", "--secret", "registryPassword", stdin=PASSWORD)
    up(ws, "local")
    return ws


def test_up_pushes_the_image_and_the_rendered_deployment_runs_that_digest(local):
    image = local.pulumi("stack", "output", "image", "--stack", "local").stdout.strip()
    assert image.startswith("127.0.0.1:5000/shimmy-gpu/shimmy@sha256:")
    manifest = subprocess.run(
        ["curl", "-fsS", "-o", "/dev/null", "-w", "%{http_code}", "-H",
         "Accept: application/vnd.docker.distribution.manifest.v2+json",
         "http://127.0.0.1:5000/v2/shimmy-gpu/shimmy/manifests/" + image.split("@")[1]],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    assert manifest.stdout == "200"
    assert rendered_shimmy_image(local) == image


def test_a_second_up_changes_nothing_and_builds_nothing(local):
    result = up(local, "local", "--expect-no-changes")
    assert changed_lines(result.stdout) == []
    assert "unchanged" in result.stdout
    assert "Building" not in result.stdout and "Pushing" not in result.stdout


def test_a_replicas_change_is_an_update_of_the_deployment_only(local):
    local.pulumi("config", "set", "--stack", "local", "replicas", "2")
    try:
        result = local.pulumi("preview", "--diff", "--stack", "local", *policy_args("local"))
    finally:
        local.pulumi("config", "rm", "--stack", "local", "replicas")
    assert changed_lines(result.stdout) == [
        "~ kubernetes:apps/v1:Deployment: (update)",
        "~ spec: {",
        "~ replicas: 1 => 2",
        "~ 1 to update",
    ]


def test_stack_export_holds_the_registry_password_only_encrypted(local):
    exported = local.pulumi("stack", "export", "--stack", "local").stdout
    assert PASSWORD not in exported
    assert "ciphertext" in exported
    assert PASSWORD in local.pulumi("stack", "export", "--stack", "local", "--show-secrets").stdout


def test_destroy_removes_every_resource_from_state(local):
    local.pulumi("destroy", "--yes", "--stack", "local")
    assert state_resources(local, "local") == []


# --- the cuda profile (tests/engine/stacks.py: a stand-in compiler, everything else real) ----------


@pytest.fixture(scope="module")
def prod(tmp_path_factory) -> Workspace:
    ws = workspace(tmp_path_factory.mktemp("prod"), ROOT, ("prod",))
    config = on_this_machine("prod", imageRepository="shimmy-engine-tests/shimmy", cudaArchitectures=["75"])
    write_stack(ws, "prod", config)
    up(ws, "prod")
    return ws


def test_a_cuda_architectures_change_rebuilds_the_image_and_rolls_the_deployment(prod):
    before = prod.pulumi("stack", "output", "image", "--stack", "prod").stdout.strip()
    prod.pulumi(
        "config", "set", "--stack", "prod", "--path", "cudaArchitectures[1]", "86", "--type", "string"
    )
    result = prod.pulumi("preview", "--diff", "--stack", "prod", *policy_args("prod"))
    changed = changed_lines(result.stdout)
    # pulumi-docker keeps no `build` in the Image's state, so the diff shows the new build whole.
    assert changed == [
        "~ docker:index/image:Image: (update)",
        "+ build : {",
        "+ args : {",
        '+ ACCELERATOR : "cuda"',
        '+ CARGO_FEATURES : "huggingface,llama-cuda"',
        '+ CUDA_ARCHITECTURES: "75;86"',
        '+ SHIMMY_PATCHES : "sampler,resident-model,graceful-shutdown,client-disconnect"',
        '+ SHIMMY_VERSION : "1.9.0"',
        '+ builderVersion: "BuilderBuildKit"',
        '+ context : "docker"',
        changed[10],  # the context digest
        '+ dockerfile : "docker/build/prod.Dockerfile"',
        '+ platform : "linux/amd64"',
        '~ imageName: "127.0.0.1:5000/shimmy-engine-tests/shimmy:1.9.0-cuda12.4.1-sm75" => '
        '"127.0.0.1:5000/shimmy-engine-tests/shimmy:1.9.0-cuda12.4.1-sm75.86"',
        "~ kubernetes:apps/v1:Deployment: (update)",
        "~ spec: {",
        "~ template: {",
        "~ spec: {",
        "~ containers: [",
        "~ [0]: {",
        f'~ image: "{before}" => [unknown]',
        "~ 2 to update",
    ]

    up(prod, "prod")
    after = prod.pulumi("stack", "output", "image", "--stack", "prod").stdout.strip()
    assert after != before and after.startswith("127.0.0.1:5000/shimmy-engine-tests/shimmy@sha256:")
    assert rendered_shimmy_image(prod) == after
    dockerfile = Path(prod.dir, "docker", "build", "prod.Dockerfile").read_text()
    assert 'ARG CUDA_ARCHITECTURES="75;86"' in dockerfile
