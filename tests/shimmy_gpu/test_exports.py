"""The pasteable exports, run by a real shell: every value arrives as one argument, nothing runs.

The config reader refuses shell metacharacters; these tests hand the exports values it would refuse
(built around it with dataclasses.replace) to prove the quoting on its own.
"""

from __future__ import annotations

import json
import shlex
import subprocess
from dataclasses import replace

import pytest

from shimmy_gpu import exports, pod_spec
from shimmy_gpu.config import parse_settings
from tests.program import stack_config

HOSTILE = [
    "x'$(touch PWNED)'.gguf",
    'a"; touch PWNED; echo ".gguf',
    "a`touch PWNED`.gguf",
    "a$(touch PWNED).gguf",
    "a;touch PWNED;.gguf",
    "a\ntouch PWNED\n.gguf",
    "a & touch PWNED &.gguf",
]
# Records each call's arguments (one JSON list per line) instead of talking to a cluster.
RECORDER = """#!/usr/bin/env python3
import json, os, sys
with open(os.environ["CALLS"], "a") as f:
    f.write(json.dumps([os.path.basename(sys.argv[0]), *sys.argv[1:]]) + "\\n")
"""


def settings_with(model_file: str = "Phi-3-mini-4k-instruct-q4.gguf", namespace: str = "shimmy"):
    settings = parse_settings("prod", stack_config("prod"))
    model = replace(settings.model, file_name=model_file)
    return replace(settings, model=model, workload=replace(settings.workload, namespace=namespace))


def run_in_shell(line: str, tmp_path, **env: str) -> list[list[str]]:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(exist_ok=True)
    for tool in ("kubectl", "curl"):
        (bin_dir / tool).write_text(RECORDER)
        (bin_dir / tool).chmod(0o755)
    calls = tmp_path / "calls"
    calls.unlink(missing_ok=True)
    env = {"PATH": f"{bin_dir}:/usr/bin:/bin", "CALLS": str(calls), **env}
    subprocess.run(["sh", "-c", line], cwd=tmp_path, env=env, check=True, timeout=30)
    assert not (tmp_path / "PWNED").exists()
    return [json.loads(entry) for entry in calls.read_text().splitlines()]


SERVICE = {"SHIMMY_SERVICE_HOST": "10.96.0.10", "SHIMMY_SERVICE_PORT": "80"}


def in_the_pod(kubectl: list[str], tmp_path) -> list[str]:
    """The smoke pod's command (after `--`), run as its `sh` would, with the Service's variables."""
    command = kubectl[kubectl.index("--") + 1 :]
    assert command[:2] == ["sh", "-c"]
    health, curl = run_in_shell(shlex.join(command), tmp_path, **SERVICE)
    assert health[-1] == "http://10.96.0.10:80/health" and "--retry-connrefused" in health
    return curl


@pytest.mark.parametrize("model_file", ["".join(HOSTILE[:-1]), HOSTILE[-1]])
def test_the_smoke_test_passes_the_request_body_whole(model_file, tmp_path):
    settings = settings_with(model_file, namespace="ns'; touch PWNED; '")
    (kubectl,) = run_in_shell(exports.smoke_test(settings), tmp_path)
    assert kubectl[:3] == ["kubectl", "-n", "ns'; touch PWNED; '"]
    curl = in_the_pod(kubectl, tmp_path)
    body = json.loads(curl[curl.index("-d") + 1])
    assert body == {"model": settings.model.name, "prompt": "Say hello.", "max_tokens": 30, "stream": False}


@pytest.mark.parametrize("model_file", HOSTILE)
def test_the_command_line_is_the_containers_args_as_one_shell_line(model_file, tmp_path):
    settings = settings_with(model_file)
    line = exports.command_line(settings)
    assert shlex.split(line) == ["shimmy", *pod_spec.shimmy_args(settings.deployment)]
    (bin_dir := tmp_path / "bin").mkdir()
    (bin_dir / "shimmy").write_text(RECORDER)
    (bin_dir / "shimmy").chmod(0o755)
    env = {"PATH": f"{bin_dir}:/usr/bin:/bin", "CALLS": str(tmp_path / "calls")}
    subprocess.run(["sh", "-c", line], cwd=tmp_path, env=env, check=True)
    assert not (tmp_path / "PWNED").exists()
    assert json.loads((tmp_path / "calls").read_text()) == [
        "shimmy",
        *pod_spec.shimmy_args(settings.deployment),
    ]


def test_the_smoke_test_goes_through_the_service_from_a_client_the_policy_admits(tmp_path):
    settings = settings_with()
    settings = replace(settings, network=replace(settings.network, client_pod_labels=(("role", "client"),)))
    (kubectl,) = run_in_shell(exports.smoke_test(settings), tmp_path)
    assert "--labels=role=client" in kubectl and "--rm" in kubectl
    curl = in_the_pod(kubectl, tmp_path)
    assert curl[-1] == "http://10.96.0.10:80/api/generate"  # the ClusterIP, no DNS needed
