"""Stack configuration: read once, validated, frozen.

`parse_settings` is pure: it takes the raw config values of one stack (what `pulumi.Config` sees,
defaults from Pulumi.yaml included) and returns a `Settings` or raises `ConfigError` naming every
bad key, its value and what is allowed. The program calls it before declaring any resource, so a
wrong value never leaves a stack half-applied.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

NAMESPACE = "shimmy-gpu"
PROJECT_FILE = Path(__file__).resolve().parent.parent / "Pulumi.yaml"

# shimmy releases whose `llama-cuda` feature really builds llama.cpp with CUDA (FACTS): 1.4.2 to
# 1.9.0. 2.x still accepts `--features llama-cuda` in some releases but builds no CUDA at all.
CUDA_CAPABLE_SHIMMY = ((1, 4, 2), (1, 9, 0))
# sha256 of the published .crate files (crates.io index `cksum`). 1.9.0 and 1.8.2 are yanked, so
# `cargo install shimmy@1.9.0` refuses them; the Dockerfile downloads and verifies the crate itself.
SHIMMY_CRATE_SHA256 = {
    "1.4.2": "e5c2297ea2795ba1ef2bd588176e15cbf1306f67cc2d356f915c4571e5d2a5cd",
    "1.5.1": "3df7e918508cbde4e33f87e856aa64c9595478f67cd367944e9f8c9419ea49c7",
    "1.6.0": "ea8d600b56f0663f490c435b17f9042b942411da28b4433d87e6b9d8290e11dd",
    "1.7.0": "33d27a4d88cd3cad65146dd7bac3a2eecc4c8ae97926762c1596147c8811b81a",
    "1.7.3": "3656fc57a1d9e23dc288b31bbd9db9197512c71390f628cbc2f10419f9847eb2",
    "1.7.4": "4d705d9d5ee7d6460563e561236b95d94cf9733c67a3b6e5326b2fa4415a3f0d",
    "1.8.1": "66fbf7571036fa6b08c6db216697d2b1ecdd36f9f30e5445f61d2dd0590a4435",
    "1.8.2": "d067f05977eac6f4df20655e054a09cb9f29cb504fd9a5894ec44e69e83eb8b0",
    "1.9.0": "10de0fc6741dba684633fc364478c72e48bc658c2509e78bc06850657805118d",
}
# Cargo features of shimmy 1.x. Only `llama-cuda` changes the llama.cpp build (FACTS).
SHIMMY_FEATURES = frozenset(
    {
        "huggingface",
        "llama",
        "llama-cuda",
        "llama-vulkan",
        "llama-opencl",
        "gpu",
        "mlx",
        "apple",
        "fast",
    }
)
# Directory names that shimmy's model discovery skips, the search root included
# (src/auto_discovery.rs, v1.9.0): a model folder with one of these names is never scanned.
SHIMMY_SKIPPED_DIRS = frozenset(
    {
        "Library", "Applications", "System", "Developer", "usr", "var", "tmp", "private", "Volumes",
        "cores", "dev", "etc", "home", "net", "proc", "opt", "sbin", "bin",
        "target", "cmake", "incremental",
    }
)  # fmt: skip
# ...and any directory whose lower-cased name contains one of these.
SHIMMY_SKIPPED_DIR_PARTS = ("whisper", "wav2vec", "bert", "clip")

# Keys whose values must be set with `pulumi config set --secret`.
SECRET_KEYS = ("registryPassword",)
ACCELERATORS = ("cuda", "cpu")
SHIMMY_SOURCES = ("crate", "git")
MODEL_SOURCES = ("url", "huggingface", "pvc")
SERVICE_TYPES = ("ClusterIP", "NodePort", "LoadBalancer")
PLATFORMS = ("linux/amd64", "linux/arm64")
RUST_LOG_LEVELS = ("error", "warn", "info", "debug", "trace")
TOLERATION_OPERATORS = ("Equal", "Exists")
TOLERATION_EFFECTS = ("NoSchedule", "PreferNoSchedule", "NoExecute")

_VERSION = re.compile(r"^(\d+)\.(\d+)\.(\d+)$")
_CUDA_VERSION = re.compile(r"^(\d+)\.(\d+)(\.\d+)?$")
_CUDA_ARCH = re.compile(r"^\d{2,3}[af]?(-real|-virtual)?$")
_SHA256 = re.compile(r"^[0-9a-f]{64}$")
_DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$")
_QUALIFIED_NAME = re.compile(
    r"^([a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$"
)
_QUANTITY = re.compile(r"^(\d+(\.\d+)?|\.\d+)(m|k|M|G|T|P|E|Ki|Mi|Gi|Ti|Pi|Ei)?$")
_IMAGE_REF = re.compile(r"^[a-z0-9]+([._/:-][a-zA-Z0-9]+)*(@sha256:[0-9a-f]{64})?$")
_REGISTRY = re.compile(r"^[a-zA-Z0-9.-]+(:\d{1,5})?$")
_REPOSITORY = re.compile(r"^[a-z0-9]+([._-][a-z0-9]+)*(/[a-z0-9]+([._-][a-z0-9]+)*)*$")
_TAG = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$")
_HF_REPO = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*/[A-Za-z0-9][A-Za-z0-9._-]*$")


class ConfigError(ValueError):
    """One or more stack config values are invalid; the message lists each with its fix."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__("invalid stack configuration:\n" + "\n".join(f"  - {p}" for p in problems))


@dataclass(frozen=True)
class ShimmySource:
    version: str
    source: str  # "crate" (crates.io .crate, sha256-pinned) or "git" (URL + ref)
    crate_sha256: str
    git_url: str
    git_ref: str
    features: tuple[str, ...]


@dataclass(frozen=True)
class BuildSettings:
    accelerator: str  # "cuda" (the product) or "cpu" (GPU-less dev clusters)
    shimmy: ShimmySource
    cuda_version: str
    cuda_architectures: tuple[str, ...]
    builder_image: str
    rust_image: str
    runtime_image: str
    build_jobs: int
    platform: str


@dataclass(frozen=True)
class ImageSettings:
    registry_server: str
    repository: str
    tag: str
    username: str
    password: str | None  # a Pulumi secret in the stack file; wrapped as a secret Output again
    push: bool

    @property
    def name(self) -> str:
        return f"{self.registry_server}/{self.repository}:{self.tag}"


@dataclass(frozen=True)
class Toleration:
    key: str
    operator: str
    value: str
    effect: str
    toleration_seconds: int | None


@dataclass(frozen=True)
class WorkloadSettings:
    namespace: str
    replicas: int
    port: int
    gpu_resource: str
    gpu_count: int
    node_selector: tuple[tuple[str, str], ...]
    tolerations: tuple[Toleration, ...]
    runtime_class_name: str
    cpu_request: str
    memory_request: str
    cpu_limit: str
    memory_limit: str
    rust_log: str
    startup_timeout_seconds: int


@dataclass(frozen=True)
class ModelSettings:
    source: str  # "url" | "huggingface" | "pvc"
    url: str
    hf_repo: str
    hf_revision: str
    file_name: str
    sha256: str
    mount_path: str
    storage_size: str
    storage_class: str
    existing_claim: str
    fetcher_image: str

    @property
    def path(self) -> str:
        return f"{self.mount_path}/{self.file_name}"

    @property
    def name(self) -> str:
        """The model name shimmy registers for `--model-path FILE`: the file stem, as is."""
        return self.file_name.removesuffix(".gguf")

    @property
    def download_url(self) -> str:
        if self.source == "huggingface":
            return f"https://huggingface.co/{self.hf_repo}/resolve/{self.hf_revision}/{self.file_name}"
        return self.url


@dataclass(frozen=True)
class ServiceSettings:
    type: str
    port: int


@dataclass(frozen=True)
class VerificationSettings:
    enabled: bool
    min_decode_tokens_per_second: int
    image: str


@dataclass(frozen=True)
class Settings:
    stack: str
    build: BuildSettings
    image: ImageSettings
    workload: WorkloadSettings
    model: ModelSettings
    service: ServiceSettings
    verification: VerificationSettings
    render_manifests_to: str  # a folder: render YAML instead of talking to a cluster
    kube_context: str


class _Reader:
    """Collects problems instead of stopping at the first, so one run reports every bad key."""

    def __init__(self, raw: Mapping[str, Any]):
        self.raw = raw
        self.problems: list[str] = []

    def fail(self, key: str, value: Any, allowed: str) -> None:
        self.problems.append(f"{NAMESPACE}:{key} = {value!r} is invalid: {allowed}")

    def _get(self, key: str) -> Any:
        if key not in self.raw:
            self.problems.append(
                f"{NAMESPACE}:{key} is missing: Pulumi.yaml declares it with a default; "
                f"set it with `pulumi config set {key} VALUE`"
            )
            return None
        return self.raw[key]

    def string(self, key: str, pattern: re.Pattern | None = None, allowed: str = "", choices=()) -> str:
        value = self._get(key)
        if value is None:
            return ""
        if not isinstance(value, str):
            self.fail(key, value, "expected a string")
            return ""
        if choices and value not in choices:
            self.fail(key, value, "allowed values are " + ", ".join(choices))
        elif pattern is not None and value and not pattern.match(value):
            self.fail(key, value, allowed)
        return value

    def integer(self, key: str, low: int, high: int) -> int:
        value = self._get(key)
        if value is None:
            return low
        parsed = _as_int(value)
        if parsed is None or not low <= parsed <= high:
            self.fail(key, value, f"expected a whole number from {low} to {high}")
            return low
        return parsed

    def secret(self, key: str) -> str | None:
        """A secret is never echoed into an error message."""
        value = self._get(key)
        return str(value) if value else None

    def boolean(self, key: str) -> bool:
        value = self._get(key)
        if isinstance(value, bool):
            return value
        if value in ("true", "false"):
            return value == "true"
        if value is not None:
            self.fail(key, value, "expected true or false")
        return False

    def structured(self, key: str, kind: type, what: str) -> Any:
        value = self._get(key)
        if isinstance(value, str):  # pulumi.Config hands objects over as JSON text
            try:
                value = json.loads(value)
            except json.JSONDecodeError:
                self.fail(key, value, f"expected {what} (JSON)")
                return kind()
        if value is None:
            return kind()
        if not isinstance(value, kind):
            self.fail(key, value, f"expected {what}")
            return kind()
        return value


def _as_int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and re.fullmatch(r"-?\d+", value.strip()):
        return int(value)
    return None


def _version_tuple(version: str) -> tuple[int, int, int] | None:
    match = _VERSION.match(version)
    return tuple(int(g) for g in match.groups()) if match else None  # type: ignore[return-value]


def parse_settings(stack: str, raw: Mapping[str, Any]) -> Settings:
    """Validate the raw config of `stack` into `Settings`; raise ConfigError listing every problem."""
    r = _Reader(raw)
    build = _build(r)
    settings = Settings(
        stack=stack,
        build=build,
        image=_image(r, build),
        workload=_workload(r),
        model=_model(r),
        service=ServiceSettings(
            type=r.string("serviceType", choices=SERVICE_TYPES),
            port=r.integer("servicePort", 1, 65535),
        ),
        verification=VerificationSettings(
            enabled=r.boolean("verifyGpu"),
            min_decode_tokens_per_second=r.integer("verifyMinDecodeTokensPerSecond", 0, 100000),
            image=r.string("verifyImage", _IMAGE_REF, "expected a Python 3 image reference"),
        ),
        render_manifests_to=r.string("renderManifestsTo"),
        kube_context=r.string("kubeContext"),
    )
    if settings.model.source != "pvc" and settings.workload.replicas > 1:
        r.fail(
            "replicas",
            settings.workload.replicas,
            "the model claim this program creates is ReadWriteOnce and binds one node: for more "
            "replicas set modelSource pvc with a ReadWriteMany claim (modelExistingClaim)",
        )
    if r.problems:
        raise ConfigError(r.problems)
    return settings


def _build(r: _Reader) -> BuildSettings:
    accelerator = r.string("accelerator", choices=ACCELERATORS)
    version = r.string("shimmyVersion", _VERSION, "expected a release version such as 1.9.0")
    source = r.string("shimmySource", choices=SHIMMY_SOURCES)
    crate_sha256 = r.string("shimmyCrateSha256", _SHA256, "expected 64 lower-case hex digits")
    features = tuple(r.structured("cargoFeatures", list, "a list of cargo feature names"))
    archs = tuple(str(a) for a in r.structured("cudaArchitectures", list, 'a list such as ["75"]'))

    parsed = _version_tuple(version)
    low, high = CUDA_CAPABLE_SHIMMY
    if accelerator == "cuda" and parsed is not None and not low <= parsed <= high:
        r.fail(
            "shimmyVersion",
            version,
            "the cuda accelerator needs a shimmy release from 1.4.2 to 1.9.0: 2.x removed llama.cpp "
            "and CUDA (its llama-cuda feature, where present, builds no CUDA), older 1.x has no "
            "--gpu-backend flag",
        )
    if source == "crate" and not crate_sha256 and version not in SHIMMY_CRATE_SHA256:
        r.fail(
            "shimmyCrateSha256",
            crate_sha256,
            f"no known checksum for shimmy {version}: set the .crate's sha256 "
            "(crates.io index field `cksum`)",
        )
    unknown = [f for f in features if f not in SHIMMY_FEATURES]
    if unknown:
        r.fail("cargoFeatures", list(features), f"unknown shimmy 1.x features {unknown}")
    if accelerator == "cuda" and "llama-cuda" not in features:
        r.fail(
            "cargoFeatures",
            list(features),
            'the cuda accelerator needs "llama-cuda": without it llama.cpp is built CPU-only',
        )
    if accelerator == "cpu" and {"llama-cuda", "gpu"} & set(features):
        r.fail(
            "cargoFeatures",
            list(features),
            'the cpu accelerator builds without "llama-cuda"/"gpu"',
        )
    if accelerator == "cpu" and "llama" not in features:
        r.fail(
            "cargoFeatures",
            list(features),
            'the cpu accelerator needs "llama" (llama.cpp)',
        )
    bad_archs = [a for a in archs if not _CUDA_ARCH.match(a)]
    if bad_archs or (accelerator == "cuda" and not archs):
        r.fail(
            "cudaArchitectures",
            list(archs),
            'expected CMake CUDA architectures such as ["75"] (T4) or ["75", "90"]; '
            "`native` means nothing on a GPU-less builder",
        )
    cuda_version = r.string("cudaVersion", _CUDA_VERSION, "expected a CUDA release such as 12.4.1")
    cuda_match = _CUDA_VERSION.match(cuda_version)
    if cuda_match and int(cuda_match.group(1)) < 12:
        r.fail(
            "cudaVersion",
            cuda_version,
            "expected CUDA 12.x (driver >= 525) or 13.x (driver >= 580)",
        )

    image_ref = "an image reference such as nvidia/cuda:12.4.1-devel-ubuntu22.04"
    return BuildSettings(
        accelerator=accelerator,
        shimmy=ShimmySource(
            version=version,
            source=source,
            crate_sha256=crate_sha256 or SHIMMY_CRATE_SHA256.get(version, ""),
            git_url=r.string("shimmyGitUrl"),
            git_ref=r.string("shimmyGitRef"),
            features=features,
        ),
        cuda_version=cuda_version,
        cuda_architectures=archs,
        builder_image=r.string("builderImage", _IMAGE_REF, image_ref)
        or _default_builder(accelerator, cuda_version),
        rust_image=r.string("rustImage", _IMAGE_REF, image_ref),
        runtime_image=r.string("runtimeImage", _IMAGE_REF, image_ref),
        build_jobs=r.integer("buildJobs", 1, 256),
        platform=r.string("platform", choices=PLATFORMS),
    )


def _default_builder(accelerator: str, cuda_version: str) -> str:
    if accelerator == "cpu":
        return "debian:bookworm"
    return f"nvidia/cuda:{cuda_version}-devel-ubuntu22.04"


def _image(r: _Reader, build: BuildSettings) -> ImageSettings:
    registry = r.string("registryServer", _REGISTRY, "expected host[:port], e.g. registry.example.com")
    repository = r.string(
        "imageRepository",
        _REPOSITORY,
        "expected lower-case path components, e.g. team/shimmy",
    )
    tag = r.string("imageTag", _TAG, "expected a Docker tag (letters, digits, _ . -)")
    username = r.string("registryUsername")
    password = r.secret("registryPassword")
    push = r.boolean("pushImage")
    if push and not registry:
        r.fail("registryServer", registry, "pushImage is true: set the registry to push to")
    if username and not password:
        r.problems.append(
            f"{NAMESPACE}:registryPassword is missing: registryUsername is set; "
            "run `pulumi config set --secret registryPassword ...`"
        )
    return ImageSettings(
        registry_server=registry,
        repository=repository,
        tag=tag or default_image_tag(build),
        username=username,
        password=password,
        push=push,
    )


def default_image_tag(build: BuildSettings) -> str:
    """A readable tag; the Deployment pins the digest anyway."""
    if build.accelerator == "cpu":
        return f"{build.shimmy.version}-cpu"
    return f"{build.shimmy.version}-cuda{build.cuda_version}-sm{'.'.join(build.cuda_architectures)}"


def _workload(r: _Reader) -> WorkloadSettings:
    quantity = "expected a Kubernetes quantity such as 2, 500m, 8Gi"
    node_selector = r.structured("nodeSelector", dict, "a map of label to value")
    for label, value in node_selector.items():
        if not _QUALIFIED_NAME.match(str(label)) or not isinstance(value, str):
            r.fail(
                "nodeSelector",
                node_selector,
                f"label {label!r} must be a qualified name with a string value",
            )
    gpu_resource = r.string(
        "gpuResourceName",
        _QUALIFIED_NAME,
        "expected an extended resource name such as nvidia.com/gpu or nvidia.com/mig-1g.10gb",
    )
    if gpu_resource and "/" not in gpu_resource:
        r.fail(
            "gpuResourceName",
            gpu_resource,
            "expected a vendor-prefixed name such as nvidia.com/gpu",
        )
    runtime_class = r.string("runtimeClassName", _DNS_LABEL, "expected a RuntimeClass name such as nvidia")
    return WorkloadSettings(
        namespace=r.string("namespace", _DNS_LABEL, "expected a DNS label (lower-case, digits, -)"),
        replicas=r.integer("replicas", 1, 100),
        port=r.integer("port", 1, 65535),
        gpu_resource=gpu_resource,
        gpu_count=r.integer("gpuCount", 1, 16),
        node_selector=tuple(sorted(node_selector.items())),
        tolerations=_tolerations(r),
        runtime_class_name=runtime_class,
        cpu_request=r.string("cpuRequest", _QUANTITY, quantity),
        memory_request=r.string("memoryRequest", _QUANTITY, quantity),
        cpu_limit=r.string("cpuLimit", _QUANTITY, quantity),
        memory_limit=r.string("memoryLimit", _QUANTITY, quantity),
        rust_log=r.string("rustLog", choices=RUST_LOG_LEVELS),
        startup_timeout_seconds=r.integer("startupTimeoutSeconds", 30, 3600),
    )


def _tolerations(r: _Reader) -> tuple[Toleration, ...]:
    allowed_keys = {"key", "operator", "value", "effect", "tolerationSeconds"}
    parsed = []
    for i, item in enumerate(r.structured("tolerations", list, "a list of tolerations")):
        where = f"tolerations[{i}]"
        if not isinstance(item, dict) or set(item) - allowed_keys:
            r.fail(where, item, f"expected an object with keys {sorted(allowed_keys)}")
            continue
        operator = item.get("operator", "Equal")
        key, value, effect = (
            item.get("key", ""),
            item.get("value", ""),
            item.get("effect", ""),
        )
        seconds = item.get("tolerationSeconds")
        if operator not in TOLERATION_OPERATORS:
            r.fail(where, item, "operator must be Equal or Exists")
        elif operator == "Exists" and value:
            r.fail(where, item, "operator Exists takes no value")
        elif operator == "Equal" and not key:
            r.fail(where, item, "operator Equal needs a key")
        if key and not _QUALIFIED_NAME.match(key):
            r.fail(where, item, "key must be a label-style name such as nvidia.com/gpu")
        if effect and effect not in TOLERATION_EFFECTS:
            r.fail(where, item, "effect must be one of " + ", ".join(TOLERATION_EFFECTS))
        if seconds is not None and (effect != "NoExecute" or _as_int(seconds) is None):
            r.fail(
                where,
                item,
                "tolerationSeconds is a whole number and only valid with effect NoExecute",
            )
        parsed.append(Toleration(key, operator, str(value), effect, _as_int(seconds)))
    return tuple(parsed)


def _model(r: _Reader) -> ModelSettings:
    source = r.string("modelSource", choices=MODEL_SOURCES)
    file_name = r.string("modelFile")
    mount_path = r.string("modelMountPath")
    if not file_name.endswith(".gguf") or "/" in file_name:
        r.fail(
            "modelFile",
            file_name,
            "expected a GGUF file name such as phi-3-mini-4k-instruct-q4.gguf",
        )
    parts = [p for p in mount_path.split("/") if p]
    if not mount_path.startswith("/") or not parts:
        r.fail("modelMountPath", mount_path, "expected an absolute folder such as /models")
    skipped = [
        p
        for p in parts
        if p in SHIMMY_SKIPPED_DIRS
        or p.startswith(".")
        or any(s in p.lower() for s in SHIMMY_SKIPPED_DIR_PARTS)
    ]
    if skipped:
        r.fail(
            "modelMountPath",
            mount_path,
            f"shimmy's model discovery skips folders named {skipped}; mount models at e.g. /models",
        )
    model = ModelSettings(
        source=source,
        url=r.string("modelUrl"),
        hf_repo=r.string("modelHfRepo", _HF_REPO, "expected owner/name"),
        hf_revision=r.string("modelHfRevision"),
        file_name=file_name,
        sha256=r.string("modelSha256", _SHA256, "expected 64 lower-case hex digits, or empty"),
        mount_path=mount_path.rstrip("/"),
        storage_size=r.string("modelStorageSize", _QUANTITY, "expected a quantity such as 10Gi"),
        storage_class=r.string("modelStorageClass"),
        existing_claim=r.string("modelExistingClaim"),
        fetcher_image=r.string("modelFetcherImage", _IMAGE_REF, "expected an image with sh and curl"),
    )
    if source == "url" and not model.url.startswith(("https://", "http://")):
        r.fail(
            "modelUrl",
            model.url,
            "modelSource is url: expected an http(s) URL of the GGUF file",
        )
    if source == "huggingface" and not model.hf_repo:
        r.fail(
            "modelHfRepo",
            model.hf_repo,
            "modelSource is huggingface: expected owner/name",
        )
    if source == "pvc" and not _DNS_LABEL.match(model.existing_claim):
        r.fail(
            "modelExistingClaim",
            model.existing_claim,
            "modelSource is pvc: expected the claim's name",
        )
    return model


def declared_keys(project_file: Path = PROJECT_FILE) -> list[str]:
    """The config keys Pulumi.yaml declares: the one list of what a stack may set."""
    project = yaml.safe_load(project_file.read_text())
    return [key.removeprefix(f"{NAMESPACE}:") for key in project.get("config", {})]


def load_settings() -> Settings:
    """Read the current stack's config (defaults from Pulumi.yaml applied by the engine)."""
    import pulumi
    from pulumi.runtime.config import is_config_secret

    config = pulumi.Config()
    raw = {key: value for key in declared_keys() if (value := config.get(key)) is not None}
    plain = [k for k in SECRET_KEYS if raw.get(k) and not is_config_secret(f"{NAMESPACE}:{k}")]
    try:
        if plain:
            raise ConfigError(
                [
                    f"{NAMESPACE}:{k} is stored in plain text: run `pulumi config set --secret {k} ...`"
                    for k in plain
                ]
            )
        return parse_settings(pulumi.get_stack(), raw)
    except ConfigError as error:
        # RunError ends the program with the message alone, before any resource is declared.
        raise pulumi.RunError(str(error)) from None
