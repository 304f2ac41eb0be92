"""The real engine (CLI, language host, file backend, passphrase secrets, the policy pack) on
tests/engine/program, which needs no resource plugin, so it runs here, where the kubernetes and
docker plugins cannot be built (tools/README.md)."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import pytest

from tests.engine.cli import ROOT, Workspace, new_workspace, pulumi_env
from tests.policy.test_pack import deployment

PROGRAM = Path(__file__).parent / "program"
PASSWORD = "registry-password-7f3a9c"
POLICY = ("--policy-pack", str(ROOT / "policy"))
DEPLOYMENT_URN = "kubernetes:apps/v1:Deployment::shimmy"


@pytest.fixture
def ws(tmp_path) -> Workspace:
    ws = new_workspace(tmp_path, PROGRAM)
    ws.pulumi("config", "set", "--secret", "registryPassword", stdin=PASSWORD)
    return ws


def changed_lines(output: str) -> list[str]:
    """The lines of `pulumi preview --diff` that mark a change, spaces collapsed."""
    lines = [" ".join(line.split()) for line in output.splitlines()]
    return [line for line in lines if re.match(r"^(\+-|[~+-]) \S", line)]


def pinned_version() -> str:
    go_mod = (ROOT / "tools/pulumi/go.mod").read_text()
    return re.search(r"github.com/pulumi/pulumi/pkg/v3 (v\S+)", go_mod).group(1)


@pytest.mark.parametrize("binary", ["pulumi", "pulumi-language-python"])
def test_cli_and_language_host_are_the_version_tools_pins(binary):
    flag = "version" if binary == "pulumi" else "-version"
    out = subprocess.run([binary, flag], env=pulumi_env(), capture_output=True, text=True, check=True)
    assert out.stdout.strip() == pinned_version()


def test_stack_without_configuration_runs(tmp_path):
    ws = new_workspace(tmp_path, PROGRAM)
    result = ws.pulumi("preview", *POLICY)
    assert "+ 2 to create" in result.stdout


def test_policy_pack_passes_a_deployment_that_keeps_every_rule(ws):
    ws.pulumi("config", "set", "deployment", json.dumps(deployment()))
    result = ws.pulumi("preview", *POLICY)
    assert "+ kubernetes:apps/v1:Deployment shimmy create" in " ".join(result.stdout.split())
    assert "mandatory" not in result.stdout


@pytest.mark.parametrize(
    ("policy", "container"),
    [
        ("gpu-resource", {"resources": {"limits": {"cpu": "4"}}}),
        ("gpu-backend-flag", {"args": ["serve", "--bind", "0.0.0.0:8081", "--model-path", "/models/a.gguf"]}),
    ],
    ids=["without-gpu-limit", "without-gpu-flag"],
)
def test_engine_fails_the_preview_naming_policy_and_resource(ws, policy, container):
    ws.pulumi("config", "set", "deployment", json.dumps(deployment(**container)))
    result = ws.pulumi("preview", *POLICY, check=False)
    assert result.returncode != 0
    assert f"[mandatory]  {policy}  (kubernetes:apps/v1:Deployment: shimmy)" in result.stdout


def test_preview_diff_shows_exactly_the_config_change(ws):
    ws.pulumi("up", "--yes", *POLICY)
    ws.pulumi("config", "set", "replicas", "2")
    result = ws.pulumi("preview", "--diff", *POLICY)
    assert changed_lines(result.stdout) == [
        "~ shimmy-engine:index:Settings: (update)",
        "~ replicas : 1 => 2",  # the input
        "~ replicas : 1 => 2",  # the stack output
        "~ 1 to update",
    ]


def test_second_up_reports_no_change(ws):
    ws.pulumi("up", "--yes", *POLICY)
    result = ws.pulumi("up", "--yes", "--expect-no-changes", *POLICY)
    assert changed_lines(result.stdout) == []
    assert "2 unchanged" in result.stdout


def test_stack_export_holds_the_registry_password_only_encrypted(ws):
    ws.pulumi("up", "--yes", *POLICY)
    exported = ws.pulumi("stack", "export").stdout
    assert PASSWORD not in exported
    deployment_state = json.loads(exported)["deployment"]
    settings = next(r for r in deployment_state["resources"] if r["type"] == "shimmy-engine:index:Settings")
    assert set(settings["inputs"]["registryPassword"]) == {"4dabf18193072939515e22adb298388d", "ciphertext"}
    # It is there, under the stack's passphrase.
    assert PASSWORD in ws.pulumi("stack", "export", "--show-secrets").stdout
