# ruff: noqa: E501  (the table keeps each bad value and its exact message on one line)
"""Values that are well-formed text and still cannot work, tried as an attacker would: quantities
that cannot run, namespaces the stack must not own, registries and image references the grammar
refuses, label and data keys past Kubernetes' syntax, request defaults of the wrong type. Each is
refused with its exact message, naming the key and the fix, and the program declares nothing.

Two tables, BAD and ACCEPTED, hold one value per line: every refused input and every edge that
still passes, in one place."""

from __future__ import annotations

import pulumi
import pytest

from shimmy_gpu.config import parse_settings
from shimmy_gpu.config_reader import ConfigError, shown
from tests.program import _Recorder, run_program, stack_config

DIGEST = "sha256:" + "a" * 64
PINNED = "expected an image pinned by digest, e.g. debian:bookworm-slim@sha256:<64 hex> (by tag only from a loopback registry, with localRegistry true)"
REGISTRY = "expected a registry host[:port] such as registry.example.com"
LABEL_KEY = "the key must be a label key such as nvidia.com/gpu.product: [DNS subdomain of at most 253 characters/]name, the name at most 63 letters, digits, - _ . that start and end with a letter or digit"
SECRET_KEY = "expected a Secret key: letters, digits, - _ . (no /), at most 253, not . or .."
WORKERS = "shimmy without the resident-model patch runs one worker thread per whole CPU of its limit and each of the {n} generation(s) at once blocks one; /health needs one more: at least {need} (or lower maxConcurrentRequests)"
RESIDENT = "the cpu accelerator holds the model (modelMemoryMiB 2300) once and a context (contextMemoryMiB 1650) per generation in RAM, with 512 MiB besides: {n} generation(s) need at least {need}Mi"
CUDA_HOST = "the cuda accelerator keeps the model on the GPU and holds shimmy's binary and CUDA runtime (432 MiB) and 24 MiB per generation in RAM, as measured (docs/gpu-results.md): {n} generation(s) need at least {need}Mi"
COPIES = "the cpu accelerator holds a copy of the model (modelMemoryMiB 2300) and a context (contextMemoryMiB 1650) per generation in RAM, with 512 MiB besides: {n} generation(s) need at least {need}Mi"
GPU = "{n} generation(s) need {need} MiB of GPU memory ({held}, 512 MiB reserve) and the pod's GPUs hold {gpu} (gpuMemoryMiB x gpuCount): lower maxConcurrentRequests, or give the pod a larger GPU"
AS_PUBLISHED = {"shimmyPatches": []}  # shimmy 1.9.0 without this project's patches
NO_CPU = "a CPU quantity above 0: with none the container never runs, e.g. 2"
SYSTEM = "a system namespace of Kubernetes holds the cluster's own objects; name one of the stack's own such as shimmy"
LONG_PREFIX = ".".join(["a" * 63] * 4)  # 255 characters: a DNS subdomain is at most 253


def invalid(key: str, value: object, allowed: str) -> str:
    return f"shimmy-gpu:{key} = {shown(value)} is invalid: {allowed}"


# (stack, overrides, the exact problem). prod runs the cuda accelerator, local the cpu one.
# The local stack serves Gemma 3 270M; these cases size phi-3-mini in its RAM.
PHI3 = {"modelMemoryMiB": 2300, "contextMemoryMiB": 1650}

BAD = [
    # --- quantities that cannot run --------------------------------------------------------------
    ("prod", {"cpuRequest": "0.0"}, invalid("cpuRequest", "0.0", NO_CPU)),
    ("prod", {"cpuRequest": "0.000", "cpuLimit": "0.0"}, invalid("cpuLimit", "0.0", NO_CPU)),
    (
        "prod",
        {**AS_PUBLISHED, "cpuRequest": "1", "cpuLimit": "1"},
        invalid("cpuLimit", "1", WORKERS.format(n=1, need=2)),
    ),
    (
        "prod",
        {**AS_PUBLISHED, "cpuRequest": "1", "cpuLimit": "1999m"},
        invalid("cpuLimit", "1999m", WORKERS.format(n=1, need=2)),
    ),
    (
        "prod",
        {**AS_PUBLISHED, "maxConcurrentRequests": 4},
        invalid("cpuLimit", "4", WORKERS.format(n=4, need=5)),
    ),
    (
        "prod",
        {**AS_PUBLISHED, "maxConcurrentRequests": 64, "cpuLimit": "63.999"},
        invalid("cpuLimit", "63.999", WORKERS.format(n=64, need=65)),
    ),
    (
        "prod",
        {"maxConcurrentRequests": 8},
        invalid(
            "maxConcurrentRequests",
            8,
            GPU.format(
                n=8,
                need=16012,
                held="the model (modelMemoryMiB 2300) once and a context (contextMemoryMiB 1650) per generation",
                gpu=15360,
            ),
        ),
    ),
    (
        "prod",
        {**AS_PUBLISHED, "maxConcurrentRequests": 4, "cpuLimit": "5"},
        invalid(
            "maxConcurrentRequests",
            4,
            GPU.format(
                n=4,
                need=16312,
                held="a copy of the model (modelMemoryMiB 2300) and a context (contextMemoryMiB 1650) per generation",
                gpu=15360,
            ),
        ),
    ),
    (
        "prod",
        {"modelMemoryMiB": 14000},
        invalid(
            "modelMemoryMiB",
            14000,
            GPU.format(
                n=1,
                need=16162,
                held="the model (modelMemoryMiB 14000) once and a context (contextMemoryMiB 1650) per generation",
                gpu=15360,
            ),
        ),
    ),
    (
        "prod",
        {"gpuMemoryMiB": 4096, "gpuCount": 1},
        invalid(
            "modelMemoryMiB",
            2300,
            GPU.format(
                n=1,
                need=4462,
                held="the model (modelMemoryMiB 2300) once and a context (contextMemoryMiB 1650) per generation",
                gpu=4096,
            ),
        ),
    ),
    (
        "local",
        {**PHI3, "memoryRequest": "1", "memoryLimit": "1"},
        invalid("memoryLimit", "1", RESIDENT.format(n=1, need=4462)),
    ),
    (
        "local",
        {**PHI3, "memoryRequest": "1k", "memoryLimit": "4461Mi"},
        invalid("memoryLimit", "4461Mi", RESIDENT.format(n=1, need=4462)),
    ),
    (
        "local",
        {**PHI3, "maxConcurrentRequests": 8, "memoryLimit": "12Gi", "memoryRequest": "4462Mi"},
        invalid("memoryLimit", "12Gi", RESIDENT.format(n=8, need=16012)),
    ),
    ("local", {**PHI3, "memoryRequest": "1"}, invalid("memoryRequest", "1", RESIDENT.format(n=1, need=4462))),
    (
        "local",
        {**PHI3, "memoryRequest": "4461Mi"},
        invalid("memoryRequest", "4461Mi", RESIDENT.format(n=1, need=4462)),
    ),
    (
        "local",
        {**PHI3, **AS_PUBLISHED, "maxConcurrentRequests": 2, "memoryLimit": "8Gi", "memoryRequest": "1G"},
        invalid("memoryLimit", "8Gi", COPIES.format(n=2, need=8412)),
    ),
    # prod derives 7 generations for phi-3-mini on a T4: 432 + 7 x 24 MiB of host memory
    (
        "prod",
        {"memoryRequest": "1", "memoryLimit": "1"},
        invalid("memoryLimit", "1", CUDA_HOST.format(n=7, need=600)),
    ),
    (
        "prod",
        {"memoryRequest": "1", "memoryLimit": "599Mi"},
        invalid("memoryLimit", "599Mi", CUDA_HOST.format(n=7, need=600)),
    ),
    ("prod", {"memoryRequest": "455Mi"}, invalid("memoryRequest", "455Mi", CUDA_HOST.format(n=1, need=456))),
    (
        "prod",
        {"memoryRequest": "466943Ki"},
        invalid("memoryRequest", "466943Ki", CUDA_HOST.format(n=1, need=456)),
    ),
    (
        "prod",
        {"maxConcurrentRequests": 2, "memoryRequest": "456Mi", "memoryLimit": "491519Ki"},
        invalid("memoryLimit", "491519Ki", CUDA_HOST.format(n=2, need=480)),
    ),
    # --- namespaces the stack must not own ---------------------------------------------------------
    ("prod", {"namespace": "kube-system"}, invalid("namespace", "kube-system", SYSTEM)),
    (
        "prod",
        {"namespace": "kube-public", "createNamespace": False},
        invalid("namespace", "kube-public", SYSTEM),
    ),
    ("prod", {"namespace": "kube-node-lease"}, invalid("namespace", "kube-node-lease", SYSTEM)),
    (
        "prod",
        {"namespace": "kube-shimmy"},
        invalid(
            "namespace",
            "kube-shimmy",
            "the kube- prefix is reserved for Kubernetes' system namespaces; name another such as shimmy",
        ),
    ),
    (
        "prod",
        {"namespace": "default"},
        invalid(
            "namespace",
            "default",
            "the stack would own the default namespace (label it, delete it on destroy): set createNamespace false to deploy into it without owning it, or name another such as shimmy",
        ),
    ),
    # --- registries and image references -----------------------------------------------------------
    (
        "prod",
        {"registryServer": "registry.example.com:0"},
        invalid(
            "registryServer",
            "registry.example.com:0",
            f"the registry port 0 is outside 1 to 65535 (or has a leading zero); {REGISTRY}",
        ),
    ),
    (
        "prod",
        {"registryServer": "registry.example.com:65536"},
        invalid(
            "registryServer",
            "registry.example.com:65536",
            f"the registry port 65536 is outside 1 to 65535 (or has a leading zero); {REGISTRY}",
        ),
    ),
    (
        "prod",
        {"registryServer": "registry.example.com:05000"},
        invalid(
            "registryServer",
            "registry.example.com:05000",
            f"the registry port 05000 is outside 1 to 65535 (or has a leading zero); {REGISTRY}",
        ),
    ),
    (
        "prod",
        {"registryServer": "registry.example.com:99999999999"},
        invalid(
            "registryServer",
            "registry.example.com:99999999999",
            f"the registry port 99999999999 is outside 1 to 65535 (or has a leading zero); {REGISTRY}",
        ),
    ),
    (
        "prod",
        {"registryServer": "registry.example.com:"},
        invalid(
            "registryServer", "registry.example.com:", f"the registry port '' is not a number; {REGISTRY}"
        ),
    ),
    (
        "prod",
        {"registryServer": "Registry.Example.com"},
        invalid(
            "registryServer",
            "Registry.Example.com",
            f"the registry host 'Registry.Example.com' is not a lower-case DNS name or IPv4 address of at most 253 characters; {REGISTRY}",
        ),
    ),
    (
        "prod",
        {"registryServer": "https://registry.example.com"},
        invalid(
            "registryServer",
            "https://registry.example.com",
            f"a registry is host[:port] alone, without scheme, user or path; {REGISTRY}",
        ),
    ),
    (
        "prod",
        {"registryServer": "registry"},
        invalid(
            "registryServer",
            "registry",
            f"Docker reads 'registry' without a dot or a port as a path on Docker Hub, not as a registry; write e.g. registry.example.com or registry:5000; {REGISTRY}",
        ),
    ),
    (
        "prod",
        {"registryServer": "-a.example.com"},
        invalid(
            "registryServer",
            "-a.example.com",
            f"the registry host '-a.example.com' is not a lower-case DNS name or IPv4 address of at most 253 characters; {REGISTRY}",
        ),
    ),
    (
        "prod",
        {"pythonImage": f"registry.example.com:70000/py@{DIGEST}"},
        invalid(
            "pythonImage",
            f"registry.example.com:70000/py@{DIGEST}",
            f"the registry port 70000 is outside 1 to 65535 (or has a leading zero); {PINNED}",
        ),
    ),
    (
        "prod",
        {"pythonImage": f"Library/python@{DIGEST}"},
        invalid(
            "pythonImage",
            f"Library/python@{DIGEST}",
            f"the path component 'Library' is not lower-case letters and digits, joined by one ., one or two _ or any number of -; {PINNED}",
        ),
    ),
    (
        "prod",
        {"pythonImage": f"library/py..thon@{DIGEST}"},
        invalid(
            "pythonImage",
            f"library/py..thon@{DIGEST}",
            f"the path component 'py..thon' is not lower-case letters and digits, joined by one ., one or two _ or any number of -; {PINNED}",
        ),
    ),
    (
        "prod",
        {"pythonImage": f"library//python@{DIGEST}"},
        invalid(
            "pythonImage",
            f"library//python@{DIGEST}",
            f"the path component '' is not lower-case letters and digits, joined by one ., one or two _ or any number of -; {PINNED}",
        ),
    ),
    (
        "prod",
        {"pythonImage": f"python:-3.12@{DIGEST}"},
        invalid(
            "pythonImage",
            f"python:-3.12@{DIGEST}",
            f"the tag '-3.12' is not a tag (letters, digits, _ . -, at most 128, not starting with . or -); {PINNED}",
        ),
    ),
    (
        "prod",
        {"pythonImage": "python@sha512:" + "a" * 128},
        invalid(
            "pythonImage",
            "python@sha512:" + "a" * 128,
            f"the digest {'sha512:' + 'a' * 128!r} is not sha256: and 64 lower-case hex digits; {PINNED}",
        ),
    ),
    (
        "prod",
        {"pythonImage": f"python@{DIGEST}@{DIGEST}"},
        invalid(
            "pythonImage",
            f"python@{DIGEST}@{DIGEST}",
            f"the digest {DIGEST + '@' + DIGEST!r} is not sha256: and 64 lower-case hex digits; {PINNED}",
        ),
    ),
    (
        "prod",
        {"modelFetcherImage": "127.0.0.1:5000/curl:8"},
        invalid(
            "modelFetcherImage",
            "127.0.0.1:5000/curl:8",
            f"it is not pinned by digest, and a tag from a loopback registry is allowed only on a stack whose registry is this machine's (localRegistry true); {PINNED}",
        ),
    ),
    (
        "prod",
        {"builderImage": "localhost/builder:bookworm"},
        invalid(
            "builderImage",
            "localhost/builder:bookworm",
            f"it is not pinned by digest, and a tag from a loopback registry is allowed only on a stack whose registry is this machine's (localRegistry true); {PINNED}",
        ),
    ),
    (
        "local",
        {"runtimeImage": "127.0.0.1:5000/shimmy-base/runtime"},
        invalid(
            "runtimeImage",
            "127.0.0.1:5000/shimmy-base/runtime",
            f"it names neither a tag nor a digest; {PINNED}",
        ),
    ),
    (
        "local",
        {"runtimeImage": "10.0.0.1:5000/runtime:bookworm"},
        invalid(
            "runtimeImage",
            "10.0.0.1:5000/runtime:bookworm",
            f"it is not pinned by digest: a tag can move to another build; {PINNED}",
        ),
    ),
    (
        "prod",
        {"imageRepository": "/".join(["a" * 60] * 4)},
        invalid(
            "imageRepository",
            "/".join(["a" * 60] * 4),
            "with registryServer the image name is 274 characters; the reference grammar allows at most 255",
        ),
    ),
    (
        "prod",
        {"modelSource": "url", "modelUrl": "https://models.example.com:0/m.gguf"},
        invalid(
            "modelUrl",
            "https://models.example.com:0/m.gguf",
            "expected an https:// URL of the GGUF file, without user, password, query or fragment",
        ),
    ),
    (
        "prod",
        {"shimmyGitUrl": "https://github.com:99999/x/y.git"},
        invalid(
            "shimmyGitUrl",
            "https://github.com:99999/x/y.git",
            "expected an https:// repository URL without user, query or fragment",
        ),
    ),
    # --- label, selector and toleration keys; Secret keys ------------------------------------------
    (
        "prod",
        {"nodeSelector": {f"{LONG_PREFIX}/gpu": "T4"}},
        invalid(f"nodeSelector[{LONG_PREFIX + '/gpu'!r}]", f"{LONG_PREFIX}/gpu", LABEL_KEY),
    ),
    (
        "prod",
        {"nodeSelector": {"nvidia.com/" + "g" * 64: "T4"}},
        invalid(f"nodeSelector[{'nvidia.com/' + 'g' * 64!r}]", "nvidia.com/" + "g" * 64, LABEL_KEY),
    ),
    (
        "prod",
        {"nodeSelector": {"nvidia.com/gpu/product": "T4"}},
        invalid("nodeSelector['nvidia.com/gpu/product']", "nvidia.com/gpu/product", LABEL_KEY),
    ),
    (
        "prod",
        {"nodeSelector": {"NVIDIA.com/gpu": "T4"}},
        invalid("nodeSelector['NVIDIA.com/gpu']", "NVIDIA.com/gpu", LABEL_KEY),
    ),
    (
        "prod",
        {"clientPodLabels": {"example.com/": "x"}},
        invalid("clientPodLabels['example.com/']", "example.com/", LABEL_KEY),
    ),
    ("prod", {"clientPodLabels": {"-app": "x"}}, invalid("clientPodLabels['-app']", "-app", LABEL_KEY)),
    ("prod", {"clientPodLabels": {"app_": "x"}}, invalid("clientPodLabels['app_']", "app_", LABEL_KEY)),
    (
        "prod",
        {"tolerations": [{"key": f"{LONG_PREFIX}/gpu", "operator": "Exists"}]},
        invalid("tolerations[0].key", f"{LONG_PREFIX}/gpu", LABEL_KEY.replace("the key must be", "expected")),
    ),
    (
        "prod",
        {"tolerations": [{"key": "nvidia.com/gpu\n", "operator": "Exists"}]},
        invalid("tolerations[0].key", "nvidia.com/gpu\n", LABEL_KEY.replace("the key must be", "expected")),
    ),
    (
        "prod",
        {"modelAuthSecret": "hf", "modelAuthSecretKey": "hf/token"},
        invalid("modelAuthSecretKey", "hf/token", SECRET_KEY),
    ),
    (
        "prod",
        {"modelAuthSecret": "hf", "modelAuthSecretKey": ".."},
        invalid("modelAuthSecretKey", "..", SECRET_KEY),
    ),
    (
        "prod",
        {"modelAuthSecret": "hf", "modelAuthSecretKey": "."},
        invalid("modelAuthSecretKey", ".", SECRET_KEY),
    ),
    (
        "prod",
        {"modelAuthSecret": "hf", "modelAuthSecretKey": "t" * 254},
        invalid("modelAuthSecretKey", "t" * 254, SECRET_KEY),
    ),
    # --- request defaults --------------------------------------------------------------------------
    (
        "prod",
        {"requestDefaults": {"max_tokens": 0}},
        invalid(
            "requestDefaults['max_tokens']",
            0,
            "expected a whole number from 1 to 4096: shimmy's context holds the prompt and the answer in 4096 tokens",
        ),
    ),
    (
        "prod",
        {"requestDefaults": {"max_tokens": 4097}},
        invalid(
            "requestDefaults['max_tokens']",
            4097,
            "expected a whole number from 1 to 4096: shimmy's context holds the prompt and the answer in 4096 tokens",
        ),
    ),
    (
        "prod",
        {"requestDefaults": {"max_tokens": 2.5}},
        invalid(
            "requestDefaults['max_tokens']",
            2.5,
            "expected a whole number from 1 to 4096: shimmy's context holds the prompt and the answer in 4096 tokens",
        ),
    ),
    (
        "prod",
        {"requestDefaults": {"max_tokens": True}},
        invalid(
            "requestDefaults['max_tokens']",
            True,
            "expected a whole number from 1 to 4096: shimmy's context holds the prompt and the answer in 4096 tokens",
        ),
    ),
    (
        "prod",
        {"requestDefaults": {"max_tokens": "256"}},
        invalid(
            "requestDefaults['max_tokens']",
            "256",
            "expected a whole number from 1 to 4096: shimmy's context holds the prompt and the answer in 4096 tokens",
        ),
    ),
    (
        "prod",
        {"requestDefaults": {"top_p": 0}},
        invalid("requestDefaults['top_p']", 0, "expected a number above 0 and at most 1 (1: off)"),
    ),
    (
        "prod",
        {"requestDefaults": {"top_p": 1.0000001}},
        invalid("requestDefaults['top_p']", 1.0000001, "expected a number above 0 and at most 1 (1: off)"),
    ),
    (
        "prod",
        {"requestDefaults": {"top_p": float("nan")}},
        invalid("requestDefaults['top_p']", float("nan"), "expected a number above 0 and at most 1 (1: off)"),
    ),
    (
        "prod",
        {"requestDefaults": {"top_k": -1}},
        invalid("requestDefaults['top_k']", -1, "expected a whole number from 0 to 1000000 (0: off)"),
    ),
    (
        "prod",
        {"requestDefaults": {"top_k": 40.5}},
        invalid("requestDefaults['top_k']", 40.5, "expected a whole number from 0 to 1000000 (0: off)"),
    ),
    (
        "prod",
        {"requestDefaults": {"temperature": -0.1}},
        invalid("requestDefaults['temperature']", -0.1, "expected a number from 0 to 1e+06 (0: greedy)"),
    ),
    (
        "prod",
        {"requestDefaults": {"temperature": float("inf")}},
        invalid(
            "requestDefaults['temperature']", float("inf"), "expected a number from 0 to 1e+06 (0: greedy)"
        ),
    ),
    (
        "prod",
        {"requestDefaults": {"stream": True}},
        invalid(
            "requestDefaults['stream']",
            "stream",
            "the key must be one of max_tokens, temperature, top_k, top_p",
        ),
    ),
    (
        "prod",
        {"requestDefaults": {"__proto__": {}}},
        invalid(
            "requestDefaults['__proto__']",
            "__proto__",
            "the key must be one of max_tokens, temperature, top_k, top_p",
        ),
    ),
]


@pytest.mark.parametrize(("stack", "overrides", "problem"), BAD, ids=[repr(o)[:60] for _, o, _ in BAD])
def test_a_value_that_cannot_work_is_refused_with_its_exact_message(stack, overrides, problem):
    with pytest.raises(ConfigError) as error:
        parse_settings(stack, {**stack_config(stack), **overrides})
    assert problem in error.value.problems, "\n".join(error.value.problems)


@pytest.mark.parametrize(
    ("stack", "overrides"), [(s, o) for s, o, _ in BAD], ids=[repr(o)[:60] for _, o, _ in BAD]
)
def test_such_a_value_declares_nothing(monkeypatch, stack, overrides):
    recorder = _Recorder()
    monkeypatch.setattr("tests.program._Recorder", lambda: recorder)
    with pytest.raises(pulumi.RunError, match="invalid stack configuration"):
        run_program(stack, overrides)
    assert recorder.declared == []


# The edges of the same rules, which still pass: a bound refuses what cannot work, nothing more.
ACCEPTED = [
    ("prod", {"cpuRequest": "1m", "cpuLimit": "2"}),
    ("prod", {**AS_PUBLISHED, "maxConcurrentRequests": 3, "cpuLimit": "4"}),
    ("prod", {"maxConcurrentRequests": 7}),  # resident: 512 + 2300 + 7 x 1650 = 14362 of 15360
    (
        "prod",
        {"maxConcurrentRequests": 4, "cpuRequest": "1", "cpuLimit": "1"},
    ),  # resident: no worker per generation
    ("local", {**PHI3, "memoryRequest": "4462Mi", "memoryLimit": "4462Mi"}),
    ("local", {**PHI3, "maxConcurrentRequests": 8, "memoryLimit": "16012Mi", "memoryRequest": "4462Mi"}),
    ("prod", {"memoryRequest": "1Gi", "memoryLimit": "2Gi"}),
    ("prod", {"memoryRequest": "456Mi", "memoryLimit": "600Mi"}),
    ("prod", {"maxConcurrentRequests": 2, "memoryRequest": "456Mi", "memoryLimit": "480Mi"}),
    ("prod", {"namespace": "default", "createNamespace": False}),
    ("prod", {"namespace": "kube-ml", "createNamespace": False}),
    ("prod", {"registryServer": "registry.example.com:65535"}),
    ("prod", {"registryServer": "registry:1"}),
    ("local", {"registryServer": "[::1]:5000", "runtimeImage": "[::1]:5000/runtime:bookworm"}),
    ("prod", {"pythonImage": f"registry.example.com:443/a__b/c---d.e:1.0_x@{DIGEST}"}),
    ("prod", {"localRegistry": True, "modelFetcherImage": "localhost:5000/curl:8"}),
    ("prod", {"nodeSelector": {f"{LONG_PREFIX[:253]}/{'g' * 63}": "T4"}}),
    ("prod", {"clientPodLabels": {"app.kubernetes.io/name": "client"}}),
    ("prod", {"modelAuthSecret": "hf", "modelAuthSecretKey": "HF_token.v2-" + "t" * 241}),
    ("prod", {"requestDefaults": {"max_tokens": 4096, "top_p": 1, "top_k": 0, "temperature": 0}}),
    ("prod", {"requestDefaults": {"max_tokens": 1, "top_p": 1e-9, "top_k": 1_000_000, "temperature": 1e6}}),
]


@pytest.mark.parametrize(("stack", "overrides"), ACCEPTED, ids=[repr(o)[:60] for _, o in ACCEPTED])
def test_the_edges_of_those_rules_still_pass(stack, overrides):
    assert parse_settings(stack, {**stack_config(stack), **overrides}).stack == stack


def test_an_existing_namespace_is_deployed_into_by_name_and_never_declared():
    # (the monitoring objects of prometheus-operator go to the monitoring namespace: not here)
    program = run_program(
        "prod", {"namespace": "default", "createNamespace": False, "monitoring": "annotations"}
    )
    assert program.of_type("kubernetes:core/v1:Namespace") == []
    namespaced = [r for r in program.resources if r.type.startswith("kubernetes:") and "metadata" in r.props]
    assert namespaced and {r.props["metadata"]["namespace"] for r in namespaced} == {"default"}
    assert program.exports["namespace"] == "default"
