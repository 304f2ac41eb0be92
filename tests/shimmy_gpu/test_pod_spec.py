"""The pure builders: shimmy's command line and the pod pieces, for every shipped stack."""

import hashlib
import subprocess

import pytest

from shimmy_gpu import pod, pod_spec
from shimmy_gpu.config import parse_settings
from tests.program import ROOT, STACKS, stack_config


def settings_for(stack="prod", **overrides):
    """What the pod is built from, for `stack` with `overrides`."""
    return parse_settings(stack, {**stack_config(stack), **overrides}).deployment


def flag_value(args, flag):
    assert args.count(flag) == 1, f"{flag} must appear exactly once in {args}"
    return args[args.index(flag) + 1]


@pytest.mark.parametrize("stack", STACKS)
def test_args_are_what_shimmy_1_9_reads(stack):
    settings = settings_for(stack)
    args = pod_spec.shimmy_args(settings)
    assert args[0] == "serve"
    # Behind the gate: loopback, on the port after the gate's; nothing reaches shimmy around it.
    assert flag_value(args, "--bind") == f"127.0.0.1:{settings.workload.port + 1}"
    assert flag_value(args, "--model-path").endswith(".gguf")
    expected = "cuda" if settings.accelerator == "cuda" else "cpu"
    assert flag_value(args, "--gpu-backend") == expected


def test_without_the_gate_shimmy_binds_every_interface_on_the_port_itself():
    settings = settings_for(requestGate=False, monitoring="none")
    assert flag_value(pod_spec.shimmy_args(settings), "--bind") == f"0.0.0.0:{settings.workload.port}"
    container = pod_spec.shimmy_container(settings, "img")
    assert container["ports"] == [{"name": "http", "container_port": 8081, "protocol": "TCP"}]
    spec = pod_spec.spec(settings, "img", "claim")
    assert [c["name"] for c in spec["containers"]] == ["shimmy"]


def test_the_gate_listens_on_the_port_and_forwards_to_shimmy_with_the_stacks_limits():
    settings = settings_for(maxConcurrentRequests=2, requestQueue=5, requestQueueTimeoutSeconds=60)
    gate = pod_spec.gate_container(settings)
    assert gate["command"] == [
        "python3", "/gate/gate.py", "--listen", "0.0.0.0:8081", "--upstream", "127.0.0.1:8082",
        "--limit", "2", "--queue", "5", "--queue-timeout", "60",
        "--drain-timeout", "30", "--endpoint-grace", "6", "--metrics-listen", "0.0.0.0:9464",
        "--cancel-on-disconnect",
    ]  # fmt: skip
    assert gate["ports"] == [
        {"name": "http", "container_port": 8081, "protocol": "TCP"},
        {"name": "metrics", "container_port": 9464, "protocol": "TCP"},
    ]
    assert gate["security_context"] == pod_spec.container_security_context()
    assert "ports" not in pod_spec.shimmy_container(settings, "img")


def test_a_stopping_gate_leaves_the_service_before_it_stops_listening_and_before_the_kubelets_kill():
    gate = pod_spec.gate_container(settings_for())
    readiness = gate["readiness_probe"]
    noticed = readiness["period_seconds"] * readiness["failure_threshold"]
    grace = int(flag_value(gate["command"], "--endpoint-grace"))
    assert readiness["http_get"]["path"] == "/gate"
    assert noticed + 3 <= grace  # the endpoint controller and kube-proxy then have 3 s or more
    for timeout in (1, 30, 600):
        spec = pod_spec.spec(settings_for(shutdownTimeoutSeconds=timeout), "img", "claim", "gate")
        # the gate closes after max(drain, endpoint grace), then answers what it accepted (2 s)
        assert spec["termination_grace_period_seconds"] >= max(timeout, grace) + 2 + 5


def test_the_patched_shimmy_is_told_how_many_contexts_to_hold_and_how_long_to_drain():
    env = {e["name"]: e["value"] for e in pod_spec.shimmy_env(settings_for(maxConcurrentRequests=5))}
    assert env["SHIMMY_MAX_PARALLEL"] == "5"
    assert env["SHIMMY_SHUTDOWN_TIMEOUT"] == "30"
    pristine = {e["name"] for e in pod_spec.shimmy_env(settings_for(shimmyPatches=[]))}
    assert not pristine & {"SHIMMY_MAX_PARALLEL", "SHIMMY_SHUTDOWN_TIMEOUT"}


def test_cuda_profile_never_leaves_the_backend_to_auto():
    assert flag_value(pod_spec.shimmy_args(settings_for()), "--gpu-backend") == "cuda"


def test_model_path_is_the_file_in_the_mount():
    settings = settings_for(modelMountPath="/data/llm", modelFile="tiny.gguf")
    assert flag_value(pod_spec.shimmy_args(settings), "--model-path") == "/data/llm/tiny.gguf"
    assert settings.model.name == "tiny"


def test_gpu_only_in_limits():
    res = pod_spec.resources(settings_for(gpuCount=2, gpuResourceName="nvidia.com/mig-1g.10gb"))
    assert res["limits"]["nvidia.com/mig-1g.10gb"] == "2"
    assert not any(k.startswith("nvidia.com/") for k in res["requests"])


def test_startup_probe_covers_the_model_load_window():
    probes = pod_spec.probes(settings_for(startupTimeoutSeconds=605))
    startup = probes["startup_probe"]
    assert startup["period_seconds"] * startup["failure_threshold"] >= 605
    for probe in probes.values():
        assert probe["http_get"]["path"] == "/health"


def test_readiness_takes_a_silent_pod_out_fast_and_liveness_fits_what_shimmy_blocks():
    probes = pod_spec.probes(settings_for())
    ready, live = probes["readiness_probe"], probes["liveness_probe"]
    assert ready["period_seconds"] * ready["failure_threshold"] <= 30
    # Generations run off shimmy's async workers with the resident-model patch: /health answers
    # during them, so a silent process is restarted within half a minute.
    assert live["period_seconds"] * live["failure_threshold"] <= 30
    # As published, a generation blocks a worker, and /health with it, for as long as it runs.
    pristine = pod_spec.probes(settings_for(shimmyPatches=[]))["liveness_probe"]
    assert pristine["period_seconds"] * pristine["failure_threshold"] >= 300
    assert pristine["timeout_seconds"] > ready["timeout_seconds"]


def test_restricted_security_context():
    ctx = pod_spec.container_security_context()
    assert ctx["allow_privilege_escalation"] is False
    assert ctx["read_only_root_filesystem"] is True
    assert ctx["run_as_non_root"] is True
    assert ctx["capabilities"] == {"drop": ["ALL"]}
    assert ctx["seccomp_profile"] == {"type": "RuntimeDefault"}


def test_the_model_is_downloaded_from_the_pinned_revision_and_checked():
    init = pod_spec.model_init(settings_for().model)
    env = {e["name"]: e.get("value") for e in init["env"]}
    assert env["MODEL_URL"] == (
        "https://huggingface.co/microsoft/Phi-3-mini-4k-instruct-gguf/resolve/"
        "a64113399c2f6b8ad3e11c394733a2ddadaa7f33/Phi-3-mini-4k-instruct-q4.gguf"
    )
    assert env["MODEL_SHA256"] == settings_for().model.sha256
    assert init["name"] == "fetch-model"
    assert init["command"] == ["sh", "-c", (ROOT / "shimmy_gpu" / "pod" / "fetch_model.sh").read_text()]


def test_a_claim_with_a_sha256_is_checked_on_start_and_one_without_is_trusted():
    verify = pod_spec.model_init(settings_for(modelSource="pvc", modelExistingClaim="models").model)
    assert verify["name"] == "verify-model"
    assert verify["command"] == ["sh", "-c", (ROOT / "shimmy_gpu" / "pod" / "verify_model.sh").read_text()]
    assert verify["volume_mounts"] == [{"name": "models", "mount_path": "/models", "read_only": True}]
    assert "MODEL_URL" not in {e["name"] for e in verify["env"]}
    none = settings_for(modelSource="pvc", modelExistingClaim="models", modelSha256="")
    assert pod_spec.model_init(none.model) is None


def test_a_private_models_token_comes_from_a_secret_never_from_config():
    init = pod_spec.model_init(settings_for(modelAuthSecret="hf-token").model)
    (token,) = [e for e in init["env"] if e["name"] == "MODEL_TOKEN"]
    assert token == {
        "name": "MODEL_TOKEN",
        "value_from": {"secret_key_ref": {"name": "hf-token", "key": "token"}},
    }


# The init container's script, run by a real shell with a stand-in curl that copies a local file
# and records its arguments and stdin (where the token must travel).
FAKE_CURL = """#!/bin/sh
printf '%s\\n' "$@" > "$CURL_LOG"; cat > "$CURL_STDIN"
out=""; while [ $# -gt 0 ]; do [ "$1" = -o ] && out=$2; shift; done
cp "$SOURCE" "$out"
"""


def run_fetch(tmp_path, sha256: str, **extra):
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(exist_ok=True)
    (bin_dir / "curl").write_text(FAKE_CURL)
    (bin_dir / "curl").chmod(0o755)
    env = {
        "PATH": f"{bin_dir}:/usr/bin:/bin",
        "MODEL_PATH": str(tmp_path / "m.gguf"),
        "MODEL_URL": "https://example.com/m.gguf",
        "MODEL_SHA256": sha256,
        "SOURCE": str(tmp_path / "src.gguf"),
        "CURL_LOG": str(tmp_path / "curl.args"),
        "CURL_STDIN": str(tmp_path / "curl.stdin"),
        **extra,
    }
    return subprocess.run(["sh", "-c", pod.text(pod.FETCH_MODEL)], env=env, capture_output=True, text=True)


def test_fetch_downloads_checks_and_then_checks_on_every_start(tmp_path):
    (tmp_path / "src.gguf").write_bytes(b"GGUF weights")
    good = hashlib.sha256(b"GGUF weights").hexdigest()
    assert run_fetch(tmp_path, "0" * 64).returncode != 0
    assert not (tmp_path / "m.gguf").exists() and not (tmp_path / "m.gguf.part").exists()
    assert run_fetch(tmp_path, good).returncode == 0
    assert (tmp_path / "m.gguf").read_bytes() == b"GGUF weights"
    args = (tmp_path / "curl.args").read_text().split()
    assert args[args.index("--proto") + 1] == "=https" and args[args.index("--proto-redir") + 1] == "=https"
    # Present and intact: checked, not downloaded again.
    (tmp_path / "curl.args").unlink()
    assert run_fetch(tmp_path, good).returncode == 0
    assert not (tmp_path / "curl.args").exists()
    # Tampered with on the volume: downloaded again, then checked.
    (tmp_path / "m.gguf").write_bytes(b"evil")
    assert run_fetch(tmp_path, good).returncode == 0
    assert (tmp_path / "m.gguf").read_bytes() == b"GGUF weights"


def test_the_token_reaches_curl_on_stdin_not_on_its_command_line(tmp_path):
    (tmp_path / "src.gguf").write_bytes(b"w")
    result = run_fetch(tmp_path, hashlib.sha256(b"w").hexdigest(), MODEL_TOKEN="hf_secret123")
    assert result.returncode == 0, result.stderr
    assert "hf_secret123" not in (tmp_path / "curl.args").read_text()
    assert (tmp_path / "curl.stdin").read_text() == 'header = "Authorization: Bearer hf_secret123"\n'


def test_the_verify_script_fails_on_a_changed_model(tmp_path):
    model = tmp_path / "m.gguf"
    model.write_bytes(b"w")
    env = {
        "PATH": "/usr/bin:/bin",
        "MODEL_PATH": str(model),
        "MODEL_SHA256": hashlib.sha256(b"w").hexdigest(),
    }
    assert subprocess.run(["sh", "-c", pod.text(pod.VERIFY_MODEL)], env=env).returncode == 0
    model.write_bytes(b"x")
    assert (
        subprocess.run(["sh", "-c", pod.text(pod.VERIFY_MODEL)], env=env, capture_output=True).returncode != 0
    )
