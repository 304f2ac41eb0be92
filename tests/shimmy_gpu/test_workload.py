"""The pure builders: shimmy's command line and the pod pieces, for every shipped stack."""

import hashlib
import subprocess

import pytest

from components import workload
from components.config import parse_settings
from tests.program import STACKS, stack_config


def settings_for(stack="prod", **overrides):
    return parse_settings(stack, {**stack_config(stack), **overrides})


def flag_value(args, flag):
    assert args.count(flag) == 1, f"{flag} must appear exactly once in {args}"
    return args[args.index(flag) + 1]


@pytest.mark.parametrize("stack", STACKS)
def test_args_are_what_shimmy_1_9_reads(stack):
    settings = settings_for(stack)
    args = workload.shimmy_args(settings)
    assert args[0] == "serve"
    assert flag_value(args, "--bind") == f"0.0.0.0:{settings.workload.port}"
    assert flag_value(args, "--model-path").endswith(".gguf")
    expected = "cuda" if settings.build.accelerator == "cuda" else "cpu"
    assert flag_value(args, "--gpu-backend") == expected


def test_cuda_profile_never_leaves_the_backend_to_auto():
    assert flag_value(workload.shimmy_args(settings_for()), "--gpu-backend") == "cuda"


def test_model_path_is_the_file_in_the_mount():
    settings = settings_for(modelMountPath="/data/llm", modelFile="tiny.gguf")
    assert flag_value(workload.shimmy_args(settings), "--model-path") == "/data/llm/tiny.gguf"
    assert settings.model.name == "tiny"


def test_gpu_only_in_limits():
    res = workload.resources(settings_for(gpuCount=2, gpuResourceName="nvidia.com/mig-1g.10gb"))
    assert res["limits"]["nvidia.com/mig-1g.10gb"] == "2"
    assert not any(k.startswith("nvidia.com/") for k in res["requests"])


def test_startup_probe_covers_the_model_load_window():
    probes = workload.probes(settings_for(startupTimeoutSeconds=605))
    startup = probes["startup_probe"]
    assert startup["period_seconds"] * startup["failure_threshold"] >= 605
    for probe in probes.values():
        assert probe["http_get"]["path"] == "/health"


def test_restricted_security_context():
    ctx = workload.container_security_context()
    assert ctx["allow_privilege_escalation"] is False
    assert ctx["read_only_root_filesystem"] is True
    assert ctx["run_as_non_root"] is True
    assert ctx["capabilities"] == {"drop": ["ALL"]}
    assert ctx["seccomp_profile"] == {"type": "RuntimeDefault"}


def test_rollout_cannot_wait_for_its_own_gpu():
    assert workload.deployment_strategy() == {"type": "Recreate"}


def test_fetcher_only_when_the_program_downloads_the_model():
    assert workload.model_fetcher(settings_for().model)["env"][0]["value"].startswith(
        "https://huggingface.co/microsoft/Phi-3-mini-4k-instruct-gguf/resolve/main/"
    )
    existing = settings_for(modelSource="pvc", modelExistingClaim="models")
    assert workload.model_fetcher(existing.model) is None


def test_fetch_script_downloads_once_and_verifies(tmp_path):
    model = tmp_path / "m.gguf"
    source = tmp_path / "src.gguf"
    source.write_bytes(b"GGUF weights")
    env = {
        "MODEL_PATH": str(model),
        "MODEL_URL": f"file://{source}",
        "MODEL_SHA256": "0" * 64,
        "PATH": "/usr/bin:/bin",
    }
    bad = subprocess.run(["sh", "-c", workload.model_fetch_script()], env=env, capture_output=True)
    assert bad.returncode != 0 and not model.exists()
    env["MODEL_SHA256"] = hashlib.sha256(b"GGUF weights").hexdigest()
    assert subprocess.run(["sh", "-c", workload.model_fetch_script()], env=env).returncode == 0
    assert model.read_bytes() == b"GGUF weights"
    source.unlink()  # present now: a second run must not download again
    again = subprocess.run(
        ["sh", "-c", workload.model_fetch_script()], env=env, capture_output=True, text=True
    )
    assert again.returncode == 0 and "model present" in again.stdout


def test_smoke_test_posts_a_non_streamed_generate():
    text = workload.smoke_test(settings_for())
    assert "/api/generate" in text and '"stream": false' in text
    assert '"model": "Phi-3-mini-4k-instruct-q4"' in text
