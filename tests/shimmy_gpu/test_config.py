# ruff: noqa: E501  (the table keeps each bad value and its exact message on one line)
"""Stack config: every shipped stack parses; every bad value, hostile or careless, is refused with
an exact message before any resource is declared.

One table, BAD, holds a bad value and its exact message per line: every refused input in one
place."""

from __future__ import annotations

import pulumi
import pytest

from shimmy_gpu.config import parse_settings
from shimmy_gpu.config_reader import ConfigError
from shimmy_gpu.stack_config import declared
from tests.program import STACKS, _Recorder, run_program, stack_config

DIGEST = "sha256:" + "a" * 64
SHA = "b" * 64


@pytest.mark.parametrize("stack", STACKS)
def test_shipped_stacks_parse(stack):
    assert parse_settings(stack, stack_config(stack)).stack == stack


def test_defaults_are_the_last_cuda_release_for_a_t4_with_everything_pinned():
    settings = parse_settings("dev", stack_config("dev"))
    build, model = settings.build, settings.model
    assert build.shimmy.version == "1.9.0"
    assert "llama-cuda" in build.shimmy.features
    assert build.cuda_architectures == ("75",)
    assert build.builder_image.startswith("nvidia/cuda:12.4.1-devel-ubuntu22.04@sha256:")
    assert all("@sha256:" in image for image in (build.rust_image, build.runtime_image, model.fetcher_image))
    assert len(model.hf_revision) == 40 and len(model.sha256) == 64
    assert settings.gate.enabled and settings.gate.limit == 7  # a T4 holds phi-3-mini once, 7 contexts
    assert settings.network.policy and settings.service.type == "ClusterIP"


def test_every_declared_key_is_read():
    # A key in Pulumi.yaml that the parser never reads, or the reverse, is drift.
    raw = stack_config("dev")
    assert sorted(raw) == sorted(declared())
    for key in declared():
        incomplete = {k: v for k, v in raw.items() if k != key}
        with pytest.raises(ConfigError, match=f"shimmy-gpu:{key} is missing"):
            parse_settings("dev", incomplete)


def invalid(key: str, value: object, allowed: str) -> str:
    return f"shimmy-gpu:{key} = {value!r} is invalid: {allowed}"


DNS = "expected a DNS label: lower-case letters, digits and -, at most 63"
IMAGE = "expected an image pinned by digest, e.g. debian:bookworm-slim@sha256:<64 hex> (by tag only from a loopback registry, with localRegistry true)"
MODEL_FILE = "expected a GGUF file name such as phi-3-mini-q4.gguf"
MODEL_URL = "expected an https:// URL of the GGUF file, without user, password, query or fragment"
GIT_URL = "expected an https:// repository URL without user, query or fragment"
LABEL_VALUE = "expected a label value (at most 63 characters)"
LABEL_KEY = "expected a label key such as nvidia.com/gpu.product: [DNS subdomain of at most 253 characters/]name, the name at most 63 letters, digits, - _ . that start and end with a letter or digit"
UNPINNED = "it is not pinned by digest: a tag can move to another build"
URL = {"modelSource": "url"}

# (overrides on prod, the exact problem). Types, empties, newlines, unicode, huge values, traversal,
# shell metacharacters, schemes, credentials, unpinned images, structures, then cross-field rules.
BAD = [
    ({"gpuCount": "two"}, invalid("gpuCount", "two", "expected a whole number from 1 to 16")),
    ({"gpuCount": True}, invalid("gpuCount", True, "expected a whole number from 1 to 16")),
    ({"gpuCount": 0}, invalid("gpuCount", 0, "expected a whole number from 1 to 16")),
    ({"gpuCount": 10**12}, invalid("gpuCount", 10**12, "expected a whole number from 1 to 16")),
    ({"replicas": -1}, invalid("replicas", -1, "expected a whole number from 1 to 100")),
    ({"port": 80}, invalid("port", 80, "expected a whole number from 1024 to 65535")),
    ({"port": 70000}, invalid("port", 70000, "expected a whole number from 1024 to 65535")),
    ({"servicePort": 0}, invalid("servicePort", 0, "expected a whole number from 1 to 65535")),
    ({"buildJobs": 300}, invalid("buildJobs", 300, "expected a whole number from 0 to 256")),
    ({"pushImage": "yes"}, invalid("pushImage", "yes", "expected true or false")),
    ({"verifyGpu": 1}, invalid("verifyGpu", 1, "expected true or false")),
    ({"namespace": 7}, invalid("namespace", 7, "expected a string")),
    # empties
    ({"namespace": ""}, invalid("namespace", "", f"must not be empty: {DNS}")),
    ({"modelFile": ""}, invalid("modelFile", "", f"must not be empty: {MODEL_FILE}")),
    (
        {"cpuLimit": ""},
        invalid("cpuLimit", "", "must not be empty: expected a CPU quantity such as 2 or 500m"),
    ),
    ({"builderImage": ""}, invalid("builderImage", "", f"must not be empty: {IMAGE}")),
    ({"accelerator": ""}, invalid("accelerator", "", "must not be empty: expected cuda, cpu")),
    (
        {"imageRepository": ""},
        invalid(
            "imageRepository",
            "",
            "must not be empty: expected lower-case path components such as team/shimmy",
        ),
    ),
    # trailing newlines ($ would accept them) and unicode look-alikes
    ({"namespace": "shimmy\n"}, invalid("namespace", "shimmy\n", DNS)),
    ({"shimmyVersion": "1.9.0\n"}, invalid("shimmyVersion", "1.9.0\n", "expected a release such as 1.9.0")),
    (
        {"modelSha256": SHA + "\n"},
        invalid("modelSha256", SHA + "\n", "expected 64 lower-case hex digits (a sha256)"),
    ),
    (
        {"registryServer": "registry.example.com\n"},
        invalid(
            "registryServer",
            "registry.example.com\n",
            "expected a registry host[:port] such as registry.example.com",
        ),
    ),
    ({"imageTag": "1.9\n"}, invalid("imageTag", "1.9\n", "expected a Docker tag (letters, digits, _ . -)")),
    ({"namespace": "shímmy"}, invalid("namespace", "shímmy", DNS)),
    ({"modelFile": "phí-3.gguf"}, invalid("modelFile", "phí-3.gguf", MODEL_FILE)),
    (
        {"registryUsername": "ci\u2010bot"},
        invalid(
            "registryUsername", "ci\u2010bot", "expected a registry user name (letters, digits, . _ @ + -)"
        ),
    ),
    # huge
    (
        {"modelFile": "a" * 600 + ".gguf"},
        f"shimmy-gpu:modelFile = {repr('a' * 600 + '.gguf')[:100]}... (607 characters) is invalid: longer than 512 characters",
    ),
    ({"namespace": "a" * 64}, invalid("namespace", "a" * 64, DNS)),
    # traversal
    ({"modelFile": "../x.gguf"}, invalid("modelFile", "../x.gguf", MODEL_FILE)),
    (
        {"modelMountPath": "/models/../etc"},
        invalid("modelMountPath", "/models/../etc", "expected an absolute folder such as /models"),
    ),
    (
        {"renderManifestsTo": "../outside"},
        invalid("renderManifestsTo", "../outside", "expected a folder inside the project such as rendered"),
    ),
    (
        {"renderManifestsTo": "/tmp/abs"},
        invalid("renderManifestsTo", "/tmp/abs", "expected a folder inside the project such as rendered"),
    ),
    (
        {"modelHfRepo": "microsoft/../../evil"},
        invalid("modelHfRepo", "microsoft/../../evil", "expected owner/name"),
    ),
    (
        {"modelHfRevision": "main/../../x"},
        invalid(
            "modelHfRevision", "main/../../x", "expected a full 40-digit commit SHA (an immutable revision)"
        ),
    ),
    # shell and Dockerfile metacharacters
    (
        {"shimmyGitRef": "v1.9.0$(touch /tmp/pwned)"},
        invalid(
            "shimmyGitRef",
            "v1.9.0$(touch /tmp/pwned)",
            "expected a release tag such as v1.9.0 or a 40-digit commit SHA",
        ),
    ),
    ({"modelFile": "a;rm -rf.gguf"}, invalid("modelFile", "a;rm -rf.gguf", MODEL_FILE)),
    ({"modelFile": "x'$(id)'.gguf"}, invalid("modelFile", "x'$(id)'.gguf", MODEL_FILE)),
    ({"namespace": "a b"}, invalid("namespace", "a b", DNS)),
    (
        {"imageTag": "1.9 ;id"},
        invalid("imageTag", "1.9 ;id", "expected a Docker tag (letters, digits, _ . -)"),
    ),
    (
        {"nodeSelector": {"nvidia.com/gpu.product": "T4;rm"}},
        invalid("nodeSelector['nvidia.com/gpu.product']", "T4;rm", LABEL_VALUE),
    ),
    ({"clientPodLabels": {"app": "$(x)"}}, invalid("clientPodLabels['app']", "$(x)", LABEL_VALUE)),
    (
        {"kubeContext": "ctx;rm -rf /"},
        invalid("kubeContext", "ctx;rm -rf /", "expected a kubeconfig context name"),
    ),
    (
        {"runtimeClassName": "nvidia && id"},
        invalid(
            "runtimeClassName",
            "nvidia && id",
            "expected a DNS subdomain name such as models or fast.ssd (at most 253 characters)",
        ),
    ),
    (
        {"cudaArchitectures": ["75;rm"]},
        invalid("cudaArchitectures[0]", "75;rm", 'expected a CMake CUDA architecture such as "75"'),
    ),
    (
        {"cargoFeatures": ["llama-cuda", "$(id)"]},
        invalid("cargoFeatures[1]", "$(id)", "expected a cargo feature name"),
    ),
    ({"pythonImage": "python:3.12-slim; id"}, invalid("pythonImage", "python:3.12-slim; id", IMAGE)),
    # schemes, credentials, signed URLs
    (
        {**URL, "modelUrl": "http://example.com/m.gguf"},
        invalid("modelUrl", "http://example.com/m.gguf", MODEL_URL),
    ),
    (
        {**URL, "modelUrl": "ftp://example.com/m.gguf"},
        invalid("modelUrl", "ftp://example.com/m.gguf", MODEL_URL),
    ),
    ({**URL, "modelUrl": "file:///etc/passwd"}, invalid("modelUrl", "file:///etc/passwd", MODEL_URL)),
    (
        {**URL, "modelUrl": "https://example.com/m.gguf?X-Amz-Signature=abc"},
        invalid("modelUrl", "https://example.com/m.gguf?X-Amz-Signature=abc", MODEL_URL),
    ),
    (
        {**URL, "modelUrl": "https://user:pass@example.com/m.gguf"},
        invalid("modelUrl", "https://user:pass@example.com/m.gguf", MODEL_URL),
    ),
    (
        {"shimmyGitUrl": "git://github.com/x/y.git"},
        invalid("shimmyGitUrl", "git://github.com/x/y.git", GIT_URL),
    ),
    (
        {"shimmyGitUrl": "ssh://git@github.com/x/y"},
        invalid("shimmyGitUrl", "ssh://git@github.com/x/y", GIT_URL),
    ),
    (
        {"shimmyGitUrl": "https://token@github.com/x/y.git"},
        invalid("shimmyGitUrl", "https://token@github.com/x/y.git", GIT_URL),
    ),
    (
        {"registryServer": "user:pw@registry.example.com"},
        invalid(
            "registryServer",
            "user:pw@registry.example.com",
            "a registry is host[:port] alone, without scheme, user or path; expected a registry host[:port] such as registry.example.com",
        ),
    ),
    # images not pinned by digest
    (
        {"builderImage": "nvidia/cuda:12.4.1-devel-ubuntu22.04"},
        invalid("builderImage", "nvidia/cuda:12.4.1-devel-ubuntu22.04", f"{UNPINNED}; {IMAGE}"),
    ),
    (
        {"runtimeImage": "debian:bookworm-slim@sha256:abc"},
        invalid(
            "runtimeImage",
            "debian:bookworm-slim@sha256:abc",
            f"the digest 'sha256:abc' is not sha256: and 64 lower-case hex digits; {IMAGE}",
        ),
    ),
    (
        {"modelFetcherImage": "curlimages/curl:latest"},
        invalid("modelFetcherImage", "curlimages/curl:latest", f"{UNPINNED}; {IMAGE}"),
    ),
    (
        {"rustImage": "registry.example.com:5000/rust:1.88"},
        invalid("rustImage", "registry.example.com:5000/rust:1.88", f"{UNPINNED}; {IMAGE}"),
    ),
    # choices
    (
        {"serviceType": "Ingress"},
        invalid("serviceType", "Ingress", "allowed values are ClusterIP, NodePort, LoadBalancer"),
    ),
    (
        {"rustLog": "verbose"},
        invalid("rustLog", "verbose", "allowed values are error, warn, info, debug, trace"),
    ),
    (
        {"platform": "windows/amd64"},
        invalid("platform", "windows/amd64", "allowed values are linux/amd64, linux/arm64"),
    ),
    ({"modelSource": "s3"}, invalid("modelSource", "s3", "allowed values are huggingface, url, pvc")),
    # structures
    (
        {"tolerations": "not json"},
        invalid("tolerations", "not json", "expected a list of tolerations (JSON)"),
    ),
    ({"tolerations": ["nvidia.com/gpu"]}, invalid("tolerations[0]", "nvidia.com/gpu", "expected an object")),
    (
        {"tolerations": [{"key": "nvidia.com/gpu", "operator": "Maybe"}]},
        invalid("tolerations[0].operator", "Maybe", "operator must be Equal or Exists"),
    ),
    (
        {"tolerations": [{"key": 5}]},
        invalid("tolerations[0].key", 5, LABEL_KEY),
    ),
    (
        {"tolerations": [{"key": "a", "nope": 1}]},
        invalid(
            "tolerations[0]",
            {"key": "a", "nope": 1},
            "unknown fields ['nope']; allowed: key, operator, value, effect, tolerationSeconds",
        ),
    ),
    ({"cargoFeatures": [1, 2]}, invalid("cargoFeatures[0]", 1, "expected a string")),
    ({"nodeSelector": ["a"]}, invalid("nodeSelector", ["a"], "expected a map of node label to value")),
    (
        {"requestDefaults": {"seed": 1}},
        invalid(
            "requestDefaults['seed']", "seed", "the key must be one of max_tokens, temperature, top_k, top_p"
        ),
    ),
    (
        {"requestDefaults": {"top_p": "high"}},
        invalid("requestDefaults['top_p']", "high", "expected a number above 0 and at most 1 (1: off)"),
    ),
    (
        {"clientCidrs": ["10.0.0.0/33"]},
        invalid("clientCidrs[0]", "10.0.0.0/33", "expected an IPv4 CIDR such as 10.0.0.0/8"),
    ),
    (
        {"memoryLimit": "12GB"},
        invalid("memoryLimit", "12GB", "expected a memory quantity such as 8Gi or 512Mi"),
    ),
    ({"cpuRequest": "-1"}, invalid("cpuRequest", "-1", "expected a CPU quantity such as 2 or 500m")),
    (
        {"gpuResourceName": "gpu"},
        invalid(
            "gpuResourceName",
            "gpu",
            "expected a vendor-prefixed resource such as nvidia.com/gpu or nvidia.com/mig-1g.10gb",
        ),
    ),
    (
        {"modelStorageSize": "0"},
        invalid("modelStorageSize", "0", "expected a memory quantity such as 8Gi or 512Mi"),
    ),
    (
        {"shimmyGitRef": "main"},
        invalid("shimmyGitRef", "main", "expected a release tag such as v1.9.0 or a 40-digit commit SHA"),
    ),
    # cross-field
    ({"cpuRequest": "8"}, invalid("cpuRequest", "8", "more than cpuLimit 4; a request must fit its limit")),
    (
        {"memoryRequest": "16Gi"},
        invalid("memoryRequest", "16Gi", "more than memoryLimit 12Gi; a request must fit its limit"),
    ),
    (
        {"modelMountPath": "/etc/models"},
        invalid(
            "modelMountPath",
            "/etc/models",
            "a volume over /etc would hide the image's own files; use e.g. /models",
        ),
    ),
    (
        {"modelMountPath": "/data/bert-models"},
        invalid(
            "modelMountPath",
            "/data/bert-models",
            "shimmy's model discovery skips folders named ['bert-models']; use e.g. /models",
        ),
    ),
    (
        {"tolerations": [{"operator": "Exists"}]},
        invalid(
            "tolerations[0]",
            {"operator": "Exists"},
            "Exists without a key tolerates every taint (node pressure and NoExecute evictions too): name the key, e.g. nvidia.com/gpu",
        ),
    ),
    (
        {"serviceType": "LoadBalancer"},
        invalid(
            "serviceType",
            "LoadBalancer",
            "shimmy's API has no authentication; a NodePort or LoadBalancer reaches it from outside the cluster: set allowExternalService true to mean it (with clientCidrs), or keep ClusterIP",
        ),
    ),
    (
        {"serviceType": "NodePort", "allowExternalService": True},
        "shimmy-gpu:clientCidrs must be set: serviceType is NodePort and the NetworkPolicy admits no outside client",
    ),
    (
        {"clientCidrs": ["10.0.0.0/8"]},
        invalid(
            "clientCidrs", ["10.0.0.0/8"], "only a NodePort or LoadBalancer Service takes outside clients"
        ),
    ),
    (
        {"modelSha256": ""},
        "shimmy-gpu:modelSha256 must be set: the model is downloaded: its sha256, which the init container checks on every start",
    ),
    (
        {**URL, "modelUrl": ""},
        "shimmy-gpu:modelUrl must be set: modelSource is url: the https:// URL of the GGUF file",
    ),
    (
        {"modelHfRevision": ""},
        "shimmy-gpu:modelHfRevision must be set: modelSource is huggingface: a full 40-digit commit SHA (an immutable revision)",
    ),
    (
        {"modelSource": "pvc"},
        "shimmy-gpu:modelExistingClaim must be set: modelSource is pvc: the claim that holds the model",
    ),
    (
        {"modelSource": "pvc", "modelExistingClaim": "m", "modelAuthSecret": "hf"},
        invalid("modelAuthSecret", "hf", "a credential for downloads, but modelSource is pvc"),
    ),
    (
        {"shimmyVersion": "2.6.5"},
        invalid(
            "shimmyVersion",
            "2.6.5",
            "the cuda accelerator needs a shimmy release from 1.4.2 to 1.9.0: 2.x removed llama.cpp and CUDA (its llama-cuda feature, where present, builds no CUDA), older 1.x has no --gpu-backend",
        ),
    ),
    (
        {"shimmyVersion": "1.8.0"},
        "shimmy-gpu:shimmyCrateSha256 must be set: there is no known checksum for shimmy 1.8.0: set the .crate's sha256 (the crates.io index field `cksum`)",
    ),
    (
        {"cargoFeatures": ["huggingface", "llama"]},
        invalid(
            "cargoFeatures",
            ["huggingface", "llama"],
            'the cuda accelerator needs "llama-cuda": without it llama.cpp is built CPU-only',
        ),
    ),
    (
        {"cargoFeatures": ["llama-cuda", "cuda"]},
        invalid("cargoFeatures", ["llama-cuda", "cuda"], "unknown shimmy 1.x features ['cuda']"),
    ),
    (
        {"accelerator": "cpu"},
        invalid(
            "cargoFeatures",
            ["huggingface", "llama-cuda"],
            'the cpu accelerator builds without "llama-cuda"/"gpu"',
        ),
    ),
    (
        {"cudaArchitectures": []},
        invalid("cudaArchitectures", [], 'the cuda accelerator needs CUDA architectures such as ["75"] (T4)'),
    ),
    (
        {"registryUsername": "ci"},
        "shimmy-gpu:registryPassword must be set: registryUsername is set: run `pulumi config set --secret registryPassword ...`",
    ),
    (
        {"replicas": 2},
        invalid(
            "replicas",
            2,
            "the model claim this program creates is ReadWriteOnce and binds one node: for more replicas set modelSource pvc with a ReadWriteMany claim (modelExistingClaim)",
        ),
    ),
    (
        {"cudaVersion": "12.2.0"},
        invalid(
            "cudaVersion",
            "12.2.0",
            "builderImage is CUDA 12.4.1: set cudaVersion to match it (it labels and tags the image)",
        ),
    ),
    (
        {"buildCache": True, "pushImage": False},
        invalid("buildCache", True, "the build cache is the pushed image: it needs pushImage true"),
    ),
    (
        {"shimmySource": "git", "shimmyGitRef": "v1.8.2"},
        invalid("shimmyGitRef", "v1.8.2", "the tag of shimmyVersion 1.9.0 is v1.9.0"),
    ),
    # the patch set: names are looked up, never turned into paths
    (
        {"shimmyPatches": ["resident-modell"]},
        invalid(
            "shimmyPatches",
            ["resident-modell"],
            "unknown patches ['resident-modell']; known: "
            "sampler, resident-model, graceful-shutdown, client-disconnect",
        ),
    ),
    (
        {"shimmyPatches": ["../0001-sampler"]},
        invalid("shimmyPatches[0]", "../0001-sampler", "expected a patch name such as resident-model"),
    ),
    (
        {"shimmyPatches": "sampler"},
        invalid(
            "shimmyPatches",
            "sampler",
            "expected a list of sampler, resident-model, graceful-shutdown, client-disconnect (JSON)",
        ),
    ),
    (
        {"shimmyPatches": ["sampler", "sampler"]},
        invalid("shimmyPatches", ["sampler", "sampler"], "each patch at most once"),
    ),
    (
        {"shimmyPatches": ["client-disconnect"]},
        invalid(
            "shimmyPatches",
            ["client-disconnect"],
            "client-disconnect needs resident-model: add it, or drop client-disconnect",
        ),
    ),
    (
        {"shimmyVersion": "1.8.2", "shimmyPatches": ["sampler"]},
        invalid(
            "shimmyPatches",
            ["sampler"],
            "the patches are written for shimmy 1.9.0: set shimmyPatches to [] to build 1.8.2 as published",
        ),
    ),
    (
        {"shutdownTimeoutSeconds": 0},
        invalid("shutdownTimeoutSeconds", 0, "expected a whole number from 1 to 3600"),
    ),
    ({"modelMemoryMiB": 0}, invalid("modelMemoryMiB", 0, "expected a whole number from 16 to 1048576")),
    ({"contextMemoryMiB": -5}, invalid("contextMemoryMiB", -5, "expected a whole number from 16 to 1048576")),
    (
        {"maxConcurrentRequests": 257},
        invalid("maxConcurrentRequests", 257, "expected a whole number from 0 to 256"),
    ),
    # monitoring
    (
        {"monitoring": "prometheus"},
        invalid("monitoring", "prometheus", "allowed values are none, annotations, prometheus-operator"),
    ),
    (
        {"monitoring": "Annotations"},
        invalid("monitoring", "Annotations", "allowed values are none, annotations, prometheus-operator"),
    ),
    (
        {"monitoring": ""},
        invalid("monitoring", "", "must not be empty: expected none, annotations, prometheus-operator"),
    ),
    (
        {"monitoring": "annotations", "requestGate": False},
        invalid(
            "monitoring",
            "annotations",
            "the metrics come from the request gate: set requestGate true, or monitoring none",
        ),
    ),
    ({"monitoringNamespace": "monitoring\n"}, invalid("monitoringNamespace", "monitoring\n", DNS)),
    ({"monitoringNamespace": 'x"}'}, invalid("monitoringNamespace", 'x"}', DNS)),
    (
        {"monitoringLabels": {"release": "kps;id"}},
        invalid("monitoringLabels['release']", "kps;id", LABEL_VALUE),
    ),
    ({"metricsPort": 80}, invalid("metricsPort", 80, "expected a whole number from 1024 to 65535")),
    (
        {"metricsPort": 8082},
        invalid("metricsPort", 8082, "port 8081 is the gate's and 8082 shimmy's: pick another"),
    ),
    (
        {"latencyObjectiveSeconds": "45"},
        invalid(
            "latencyObjectiveSeconds",
            "45",
            "allowed values are 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20, 30, 60, 120, 300, 600",
        ),
    ),
    (
        {"latencyObjectiveSeconds": "30.0"},
        invalid(
            "latencyObjectiveSeconds",
            "30.0",
            "allowed values are 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20, 30, 60, 120, 300, 600",
        ),
    ),
]


def test_the_patches_apply_in_their_order_whatever_order_the_stack_lists_them():
    settings = parse_settings(
        "prod", {**stack_config("prod"), "shimmyPatches": ["graceful-shutdown", "sampler"]}
    )
    assert settings.build.shimmy.patches == ("sampler", "graceful-shutdown")


@pytest.mark.parametrize(("overrides", "problem"), BAD, ids=[repr(o)[:60] for o, _ in BAD])
def test_a_bad_value_is_refused_with_its_exact_message(overrides, problem):
    with pytest.raises(ConfigError) as error:
        parse_settings("prod", {**stack_config("prod"), **overrides})
    assert problem in error.value.problems, "\n".join(error.value.problems)


def test_the_table_covers_at_least_sixty_values():
    assert len(BAD) >= 60


def test_every_problem_is_reported_at_once():
    raw = {**stack_config("dev"), "gpuCount": 0, "port": 0, "modelFile": "x.bin"}
    with pytest.raises(ConfigError) as error:
        parse_settings("dev", raw)
    assert len(error.value.problems) == 3


def test_a_secret_is_never_echoed():
    raw = {**stack_config("dev"), "registryUsername": "ci", "registryPassword": "hunter2\nx"}
    with pytest.raises(ConfigError) as error:
        parse_settings("dev", raw)
    assert "hunter2" not in str(error.value)
    assert (
        "shimmy-gpu:registryPassword is invalid: expected one line of text (value not shown)"
        in error.value.problems
    )


@pytest.mark.parametrize("overrides", [o for o, _ in BAD[::7]], ids=lambda o: repr(o)[:40])
def test_bad_config_declares_nothing(monkeypatch, overrides):
    recorder = _Recorder()
    monkeypatch.setattr("tests.program._Recorder", lambda: recorder)
    with pytest.raises(pulumi.RunError, match="invalid stack configuration"):
        run_program("prod", overrides)
    assert recorder.declared == []


def test_a_password_stored_in_plain_text_is_refused():
    with pytest.raises(pulumi.RunError, match=r"registryPassword is stored in plain text.*--secret"):
        run_program("dev", {"registryUsername": "ci", "registryPassword": "hunter2"}, secret_keys=())
    run_program("dev", {"registryUsername": "ci", "registryPassword": "hunter2"})


def test_the_local_stack_may_build_from_its_own_registry_by_tag_but_nothing_else_may():
    local = parse_settings("local", stack_config("local"))
    assert local.build.builder_image == "127.0.0.1:5000/shimmy-base/builder:bookworm"
    with pytest.raises(ConfigError, match="builderImage"):
        parse_settings("prod", {**stack_config("prod"), "builderImage": "10.0.0.1:5000/builder:bookworm"})
    pinned = f"10.0.0.1:5000/builder:bookworm@{DIGEST}"
    assert (
        parse_settings("prod", {**stack_config("prod"), "builderImage": pinned}).build.builder_image == pinned
    )
