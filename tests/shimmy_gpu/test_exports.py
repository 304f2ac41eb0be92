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

from shimmy_gpu import exports, workload
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
# Records each call's arguments (one JSON list per line) instead of talking to a cluster; the
# port-forward stays up, as kubectl's does, until the smoke test kills it.
RECORDER = """#!/usr/bin/env python3
import json, os, sys, time
with open(os.environ["CALLS"], "a") as f:
    f.write(json.dumps([os.path.basename(sys.argv[0]), *sys.argv[1:]]) + "\\n")
if os.path.basename(sys.argv[0]) == "kubectl":
    time.sleep(60)
"""


def settings_with(model_file: str = "Phi-3-mini-4k-instruct-q4.gguf", namespace: str = "shimmy"):
    settings = parse_settings("prod", stack_config("prod"))
    model = replace(settings.model, file_name=model_file)
    return replace(settings, model=model, workload=replace(settings.workload, namespace=namespace))


def run_in_shell(line: str, tmp_path) -> list[list[str]]:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for tool in ("kubectl", "curl"):
        (bin_dir / tool).write_text(RECORDER)
        (bin_dir / tool).chmod(0o755)
    calls = tmp_path / "calls"
    env = {"PATH": f"{bin_dir}:/usr/bin:/bin", "CALLS": str(calls)}
    subprocess.run(["sh", "-c", line], cwd=tmp_path, env=env, check=True, timeout=30)
    assert not (tmp_path / "PWNED").exists()
    return [json.loads(entry) for entry in calls.read_text().splitlines()]


@pytest.mark.parametrize("model_file", ["".join(HOSTILE[:-1]), HOSTILE[-1]])
def test_the_smoke_test_passes_the_request_body_whole(model_file, tmp_path):
    # Each run waits out the smoke test's 3 s for the port-forward: all but one value in one name.
    settings = settings_with(model_file, namespace="ns'; touch PWNED; '")
    calls = sorted(run_in_shell(exports.smoke_test(settings), tmp_path))
    assert calls[1][:3] == ["kubectl", "-n", "ns'; touch PWNED; '"]
    curl = calls[0]
    body = json.loads(curl[curl.index("-d") + 1])
    assert body == {"model": settings.model.name, "prompt": "Say hello.", "max_tokens": 30, "stream": False}


@pytest.mark.parametrize("model_file", HOSTILE)
def test_the_command_line_is_the_containers_args_as_one_shell_line(model_file, tmp_path):
    settings = settings_with(model_file)
    line = exports.command_line(settings)
    assert shlex.split(line) == ["shimmy", *workload.shimmy_args(settings)]
    (bin_dir := tmp_path / "bin").mkdir()
    (bin_dir / "shimmy").write_text(RECORDER)
    (bin_dir / "shimmy").chmod(0o755)
    env = {"PATH": f"{bin_dir}:/usr/bin:/bin", "CALLS": str(tmp_path / "calls")}
    subprocess.run(["sh", "-c", line], cwd=tmp_path, env=env, check=True)
    assert not (tmp_path / "PWNED").exists()
    assert json.loads((tmp_path / "calls").read_text()) == ["shimmy", *workload.shimmy_args(settings)]


def test_the_smoke_test_goes_through_the_service_port():
    settings = settings_with()
    assert "svc/shimmy 18081:80" in exports.smoke_test(settings)
    assert "http://127.0.0.1:18081/api/generate" in exports.smoke_test(settings)
