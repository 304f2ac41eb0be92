"""Stack config: every shipped stack parses; every bad value stops the program before any resource."""

import pulumi
import pytest

from components.config import ConfigError, declared_keys, parse_settings
from tests.program import STACKS, _Recorder, run_program, stack_config


@pytest.mark.parametrize("stack", STACKS)
def test_shipped_stacks_parse(stack):
    settings = parse_settings(stack, stack_config(stack))
    assert settings.stack == stack


def test_defaults_are_the_last_cuda_release_for_a_t4():
    build = parse_settings("dev", stack_config("dev")).build
    assert build.shimmy.version == "1.9.0"
    assert "llama-cuda" in build.shimmy.features
    assert build.cuda_architectures == ("75",)
    assert build.cuda_version.startswith("12.")
    assert build.builder_image == "nvidia/cuda:12.4.1-devel-ubuntu22.04"


def test_every_declared_key_is_read():
    # A key in Pulumi.yaml that the parser never reads, or the reverse, is drift.
    raw = stack_config("dev")
    assert sorted(raw) == sorted(declared_keys())
    for key in declared_keys():
        incomplete = {k: v for k, v in raw.items() if k != key}
        with pytest.raises(ConfigError, match=f"shimmy-gpu:{key} is missing"):
            parse_settings("dev", incomplete)


BAD_INPUTS = [
    ("gpuCount", 0, "whole number from 1 to 16"),
    ("gpuCount", "two", "whole number from 1 to 16"),
    ("cargoFeatures", ["huggingface", "llama"], 'needs "llama-cuda"'),
    ("cargoFeatures", ["huggingface", "llama-cuda", "cuda"], "unknown shimmy 1.x features"),
    ("shimmyVersion", "2.6.5", "2.x removed llama.cpp and CUDA"),
    ("shimmyVersion", "1.3.5", "1.4.2 to 1.9.0"),
    ("shimmyVersion", "latest", "release version such as 1.9.0"),
    ("port", 0, "whole number from 1 to 65535"),
    ("port", 70000, "whole number from 1 to 65535"),
    ("cudaArchitectures", ["sm75x"], "CMake CUDA architectures"),
    ("cudaArchitectures", ["native"], "CMake CUDA architectures"),
    ("cudaArchitectures", [], "CMake CUDA architectures"),
    ("cudaVersion", "11.8", "CUDA 12.x"),
    ("modelFile", "phi-3-mini.bin", "GGUF file name"),
    ("modelFile", "models/phi.gguf", "GGUF file name"),
    ("modelMountPath", "/opt/models", "skips folders named ['opt']"),
    ("modelMountPath", "/data/bert-models", "skips folders named ['bert-models']"),
    ("modelMountPath", "models", "absolute folder"),
    ("registryServer", "", "set the registry to push to"),
    ("tolerations", [{"key": "nvidia.com/gpu", "operator": "Maybe"}], "operator must be Equal or Exists"),
    ("tolerations", [{"key": "nvidia.com/gpu", "effect": "NoRun"}], "effect must be one of"),
    ("tolerations", [{"operator": "Exists", "value": "x"}], "Exists takes no value"),
    ("tolerations", ["nvidia.com/gpu"], "expected an object"),
    ("tolerations", "not json", "expected a list of tolerations (JSON)"),
    ("nodeSelector", {"nvidia.com/gpu.product": 4}, "qualified name with a string value"),
    ("replicas", 2, "ReadWriteOnce"),
    ("replicas", -1, "whole number from 1 to 100"),
    ("gpuResourceName", "gpu", "vendor-prefixed name"),
    ("memoryLimit", "12GB", "Kubernetes quantity"),
    ("serviceType", "Ingress", "ClusterIP, NodePort, LoadBalancer"),
    ("namespace", "Shimmy_Prod", "DNS label"),
    ("rustLog", "verbose", "error, warn, info, debug, trace"),
    ("accelerator", "rocm", "cuda, cpu"),
    ("pushImage", "yes", "true or false"),
    ("modelSource", "s3", "url, huggingface, pvc"),
    ("platform", "windows/amd64", "linux/amd64, linux/arm64"),
    ("buildJobs", 0, "whole number from 1 to 256"),
]


@pytest.mark.parametrize(
    ("key", "value", "allowed"), BAD_INPUTS, ids=[f"{k}={v!r}" for k, v, _ in BAD_INPUTS]
)
def test_bad_value_names_key_value_and_fix(key, value, allowed):
    raw = {**stack_config("prod"), key: value}
    with pytest.raises(ConfigError) as error:
        parse_settings("prod", raw)
    message = str(error.value)
    assert f"shimmy-gpu:{key}" in message
    assert allowed in message
    # A malformed toleration is reported by its index, e.g. tolerations[0] = {...}.
    shown = value[0] if key == "tolerations" and isinstance(value, list) else value
    assert repr(shown) in message


@pytest.mark.parametrize(
    ("overrides", "key"),
    [
        ({"accelerator": "cpu", "cargoFeatures": ["huggingface", "llama-cuda"]}, "cargoFeatures"),
        ({"accelerator": "cpu", "cargoFeatures": ["huggingface"]}, "cargoFeatures"),
        ({"modelSource": "url", "modelUrl": "ftp://x/y.gguf"}, "modelUrl"),
        ({"modelSource": "pvc", "modelExistingClaim": ""}, "modelExistingClaim"),
        ({"registryUsername": "ci", "registryPassword": ""}, "registryPassword"),
        ({"shimmyVersion": "1.8.0"}, "shimmyCrateSha256"),
    ],
)
def test_inconsistent_combinations(overrides, key):
    with pytest.raises(ConfigError, match=f"shimmy-gpu:{key}"):
        parse_settings("dev", {**stack_config("dev"), **overrides})


def test_every_problem_is_reported_at_once():
    raw = {**stack_config("dev"), "gpuCount": 0, "port": 0, "modelFile": "x.bin"}
    with pytest.raises(ConfigError) as error:
        parse_settings("dev", raw)
    assert len(error.value.problems) == 3


def test_bad_config_declares_nothing(monkeypatch):
    recorder = _Recorder()
    monkeypatch.setattr("tests.program._Recorder", lambda: recorder)
    with pytest.raises(pulumi.RunError, match="shimmy-gpu:gpuCount = '0' is invalid"):
        run_program("dev", {"gpuCount": 0})
    assert recorder.declared == []


def test_a_password_stored_in_plain_text_is_refused():
    with pytest.raises(pulumi.RunError, match=r"registryPassword is stored in plain text.*--secret"):
        run_program("dev", {"registryUsername": "ci", "registryPassword": "hunter2"}, secret_keys=())
    run_program("dev", {"registryUsername": "ci", "registryPassword": "hunter2"})
