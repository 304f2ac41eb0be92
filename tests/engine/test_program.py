"""The shipped program under the real engine with the policy pack, per stack.

It needs the kubernetes and docker plugins at the versions the pinned SDKs ask for; where they are
not installed (here: the module proxy does not serve them, tools/README.md) the tests are skipped
and the reason names them. dev and prod point at clusters that cannot be reached: a preview
still works, and local renders its manifests into a folder.
"""

from __future__ import annotations

import pytest

from tests.engine.cli import ROOT, Workspace, copy_work_tree, installed_plugins, pulumi_env, required_plugins

STACKS = ("dev", "prod", "local")


def missing_plugins() -> list[str]:
    missing = required_plugins() - installed_plugins(pulumi_env())
    return sorted(f"{name} v{version}" for name, version in missing)


MISSING = missing_plugins()
pytestmark = pytest.mark.skipif(bool(MISSING), reason=f"resource plugins not installed: {', '.join(MISSING)}")


@pytest.fixture(scope="module")
def project(tmp_path_factory) -> Workspace:
    base = tmp_path_factory.mktemp("program")
    state = base / "state"
    state.mkdir()
    ws = Workspace(copy_work_tree(base / "tree"), pulumi_env(state))
    for stack in STACKS:
        ws.pulumi("stack", "init", stack, "--secrets-provider", "passphrase")
    return ws


def policy_args(stack: str) -> list[str]:
    args = ["--policy-pack", "policy"]
    if (ROOT / "policy" / "config" / f"{stack}.json").exists():
        args += ["--policy-pack-config", f"policy/config/{stack}.json"]
    return args


@pytest.mark.parametrize("stack", STACKS)
def test_preview_passes_with_the_policy_pack(project, stack):
    result = project.pulumi("preview", "--stack", stack, *policy_args(stack))
    assert "[mandatory]" not in result.stdout


def test_cpu_profile_on_dev_fails_the_preview_naming_policy_and_deployment(project):
    project.pulumi("config", "set", "--stack", "dev", "accelerator", "cpu")
    project.pulumi("config", "set", "--stack", "dev", "--path", "cargoFeatures[1]", "llama")
    try:
        result = project.pulumi("preview", "--stack", "dev", *policy_args("dev"), check=False)
    finally:
        project.pulumi("config", "rm", "--stack", "dev", "accelerator")
        project.pulumi("config", "rm", "--stack", "dev", "cargoFeatures")
    assert result.returncode != 0
    assert "[mandatory]  gpu-backend-flag  (kubernetes:apps/v1:Deployment:" in result.stdout
