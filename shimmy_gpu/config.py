"""Stack config -> `Settings`: every key Pulumi.yaml declares, read and matched whole.

`parse_settings` is pure: it takes the raw config of one stack (Pulumi.yaml defaults with the
stack file on top, as the engine gives them) and returns `Settings`, or raises `ConfigError`
listing every bad key at once. The program calls it before declaring any resource, so a wrong
value never leaves a stack half-applied. Rules that tie several keys together are in
key_relations.py.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, get_args

import shimmy_facts as facts

from shimmy_gpu import bounds, images, key_relations, monitoring, sizing, values
from shimmy_gpu.config_reader import ConfigError, Reader, as_int
from shimmy_gpu.settings import (
    Accelerator,
    BuildSettings,
    GateSettings,
    ImageSettings,
    ModelSettings,
    ModelSource,
    NetworkSettings,
    Platform,
    RustLog,
    ServiceSettings,
    ServiceType,
    Settings,
    ShimmySource,
    SourceKind,
    Toleration,
    TolerationEffect,
    TolerationOperator,
    VerificationSettings,
    WorkloadSettings,
)

ACCELERATORS = get_args(Accelerator)
SHIMMY_SOURCES = get_args(SourceKind)
MODEL_SOURCES = get_args(ModelSource)
SERVICE_TYPES = get_args(ServiceType)
PLATFORMS = get_args(Platform)
RUST_LOG_LEVELS = get_args(RustLog)
TOLERATION_OPERATORS = get_args(TolerationOperator)
TOLERATION_EFFECTS = get_args(TolerationEffect)
# Config keys whose values must be set with `pulumi config set --secret`.
SECRET_KEYS = ("registryPassword",)
KUBE_CONTEXT = values.Allowed(
    values.re.compile(r"[A-Za-z0-9][A-Za-z0-9._@:/-]{0,252}"), "a kubeconfig context name"
)
RELATIVE_FOLDER = values.Allowed(
    values.re.compile(
        r"(?!\.\.?(/|$))[A-Za-z0-9_][A-Za-z0-9._-]{0,62}(/(?!\.\.?(/|$))[A-Za-z0-9_][A-Za-z0-9._-]{0,62}){0,7}"
    ),
    "a folder inside the project such as rendered",
)


def parse_settings(stack: str, raw: Mapping[str, Any]) -> Settings:
    """Validate the raw config of `stack` into `Settings`; raise ConfigError listing every problem."""
    r = Reader(raw)
    local = r.boolean("localRegistry")
    build = _build(r, local)
    workload = _workload(r)
    python_image = images.image(r, "pythonImage", local_registry=local)
    settings = Settings(
        stack=stack,
        build=build,
        image=_image(r, build),
        workload=workload,
        model=_model(r, local),
        service=ServiceSettings(
            type=r.text("serviceType", choices=SERVICE_TYPES),
            port=r.integer("servicePort", 1, 65535),
            allow_external=r.boolean("allowExternalService"),
        ),
        network=NetworkSettings(
            policy=r.boolean("networkPolicy"),
            client_namespaces=r.text_list("clientNamespaces", values.DNS_LABEL, "a list of namespace names"),
            client_pod_labels=r.text_map(
                "clientPodLabels", values.QUALIFIED_NAME, values.LABEL_VALUE, "a map of pod label to value"
            ),
            client_cidrs=r.text_list("clientCidrs", values.CIDR, "a list of CIDRs such as 10.0.0.0/8"),
        ),
        gate=_gate(r, build, workload, python_image),
        verification=VerificationSettings(
            enabled=r.boolean("verifyGpu"),
            min_decode_tokens_per_second=r.integer("verifyMinDecodeTokensPerSecond", 0, 100000),
            image=python_image,
        ),
        monitoring=monitoring.read(r),
        render_manifests_to=r.text("renderManifestsTo", RELATIVE_FOLDER, optional=True),
        kube_context=r.text("kubeContext", KUBE_CONTEXT, optional=True),
    )
    if not r.problems:  # the cross-field rules need each value to be valid on its own first
        key_relations.report(r, settings)
    if r.problems:
        raise ConfigError(r.problems)
    return settings


def _gate(r: Reader, build: BuildSettings, workload: WorkloadSettings, image: str) -> GateSettings:
    enabled = r.boolean("requestGate")
    limit = r.integer("maxConcurrentRequests", 0, facts.MAX_PARALLEL)
    gpu_memory = r.integer("gpuMemoryMiB", 1024, 1048576) * workload.gpu_count
    model_memory = r.integer("modelMemoryMiB", 16, 1048576)
    context_memory = r.integer("contextMemoryMiB", 16, 1048576)
    if limit == 0 and workload.cpu_limit and workload.memory_limit:
        limit = sizing.derived_limit(build, workload, gpu_memory, model_memory, context_memory)
    if workload.cpu_request and workload.cpu_limit and workload.memory_request and workload.memory_limit:
        bounds.resources(r, build, workload, limit, model_memory, context_memory, gpu_memory)
    return GateSettings(
        enabled=enabled,
        limit=limit,
        queue=r.integer("requestQueue", 0, 1024),
        queue_timeout_seconds=r.integer("requestQueueTimeoutSeconds", 1, 3600),
        request_defaults=r.fields("requestDefaults", bounds.REQUEST_DEFAULTS, 'a map such as {"top_p": 1.0}'),
        image=image,
    )


def _build(r: Reader, local: bool) -> BuildSettings:
    version = r.text("shimmyVersion", values.VERSION)
    source = r.text("shimmySource", choices=SHIMMY_SOURCES)
    crate_sha256 = r.text("shimmyCrateSha256", values.SHA256, optional=True)
    features = r.text_list("cargoFeatures", values.FEATURE, 'a list such as ["huggingface", "llama-cuda"]')
    return BuildSettings(
        accelerator=r.text("accelerator", choices=ACCELERATORS),
        shimmy=ShimmySource(
            version=version,
            source=source,
            crate_sha256=crate_sha256 or facts.CRATE_SHA256.get(version, ""),
            git_url=r.text("shimmyGitUrl", values.GIT_URL),
            git_ref=r.text("shimmyGitRef", values.GIT_REF),
            features=features,
            patches=_patches(r),
        ),
        cuda_version=r.text("cudaVersion", values.CUDA_VERSION),
        cuda_architectures=r.text_list(
            "cudaArchitectures", values.CUDA_ARCHITECTURE, 'a list such as ["75"] (T4) or ["75", "90"]'
        ),
        builder_image=images.image(r, "builderImage", local_registry=local),
        rust_image=images.image(r, "rustImage", local_registry=local),
        runtime_image=images.image(r, "runtimeImage", local_registry=local),
        build_jobs=r.integer("buildJobs", 0, 256),
        platform=r.text("platform", choices=PLATFORMS),
    )


def _patches(r: Reader) -> tuple[str, ...]:
    """The patches named, in the order they apply (whatever order the stack lists them in)."""
    named = r.text_list("shimmyPatches", values.PATCH_NAME, f"a list of {', '.join(facts.PATCH_NAMES)}")
    unknown = [name for name in named if name not in facts.PATCH_NAMES]
    if unknown:
        r.fail(
            "shimmyPatches", list(named), f"unknown patches {unknown}; known: {', '.join(facts.PATCH_NAMES)}"
        )
    if len(set(named)) != len(named):
        r.fail("shimmyPatches", list(named), "each patch at most once")
    for name, requires in facts.PATCHES:
        missing = [need for need in requires if need not in named]
        if name in named and missing:
            r.fail("shimmyPatches", list(named), f"{name} needs {', '.join(missing)}: add it, or drop {name}")
    return tuple(name for name in facts.PATCH_NAMES if name in named)


def _image(r: Reader, build: BuildSettings) -> ImageSettings:
    return ImageSettings(
        registry_server=images.registry(r, "registryServer"),
        repository=r.text("imageRepository", values.REPOSITORY),
        tag=r.text("imageTag", values.TAG, optional=True) or default_image_tag(build),
        username=r.text("registryUsername", values.USERNAME, optional=True),
        password=r.secret("registryPassword"),
        push=r.boolean("pushImage"),
        build_cache=r.boolean("buildCache"),
    )


def default_image_tag(build: BuildSettings) -> str:
    """A readable tag; the Deployment pins the digest anyway."""
    if build.accelerator == "cpu":
        return f"{build.shimmy.version}-cpu"
    return f"{build.shimmy.version}-cuda{build.cuda_version}-sm{'.'.join(build.cuda_architectures)}"


def _workload(r: Reader) -> WorkloadSettings:
    return WorkloadSettings(
        namespace=r.text("namespace", values.DNS_LABEL),
        create_namespace=r.boolean("createNamespace"),
        replicas=r.integer("replicas", 1, 100),
        # Unprivileged: the container drops every capability, NET_BIND_SERVICE too.
        port=r.integer("port", 1024, 65535),
        gpu_resource=r.text("gpuResourceName", values.EXTENDED_RESOURCE),
        gpu_count=r.integer("gpuCount", 1, 16),
        node_selector=r.text_map(
            "nodeSelector", values.QUALIFIED_NAME, values.LABEL_VALUE, "a map of node label to value"
        ),
        tolerations=r.objects(
            "tolerations", lambda where, item: _toleration(r, where, item), "a list of tolerations"
        ),
        runtime_class_name=r.text("runtimeClassName", values.DNS_SUBDOMAIN, optional=True),
        cpu_request=r.text("cpuRequest", values.CPU),
        memory_request=r.text("memoryRequest", values.MEMORY),
        cpu_limit=r.text("cpuLimit", values.CPU),
        memory_limit=r.text("memoryLimit", values.MEMORY),
        rust_log=r.text("rustLog", choices=RUST_LOG_LEVELS),
        startup_timeout_seconds=r.integer("startupTimeoutSeconds", 30, 3600),
        shutdown_timeout_seconds=r.integer("shutdownTimeoutSeconds", 1, 3600),
        rollout_timeout_minutes=r.integer("rolloutTimeoutMinutes", 1, 240),
    )


def _toleration(r: Reader, where: str, item: Mapping[str, Any]) -> Toleration | None:
    unknown = sorted(set(item) - {"key", "operator", "value", "effect", "tolerationSeconds"})
    if unknown:
        r.fail(
            where, item, f"unknown fields {unknown}; allowed: key, operator, value, effect, tolerationSeconds"
        )
        return None
    problems = len(r.problems)
    key, value = item.get("key", ""), item.get("value", "")
    operator, effect = item.get("operator", "Equal"), item.get("effect", "")
    seconds = item.get("tolerationSeconds")
    if not isinstance(key, str) or (key and not values.QUALIFIED_NAME.matches(key)):
        r.fail(f"{where}.key", key, f"expected {values.QUALIFIED_NAME.describes}")
    if not isinstance(value, str) or not values.LABEL_VALUE.matches(value):
        r.fail(f"{where}.value", value, f"expected {values.LABEL_VALUE.describes}")
    if operator not in TOLERATION_OPERATORS:
        r.fail(f"{where}.operator", operator, "operator must be Equal or Exists")
    if effect not in ("", *TOLERATION_EFFECTS):
        r.fail(f"{where}.effect", effect, "effect must be one of " + ", ".join(TOLERATION_EFFECTS))
    if seconds is not None and (effect != "NoExecute" or as_int(seconds) is None or as_int(seconds) < 0):
        r.fail(f"{where}.tolerationSeconds", seconds, "a whole number >= 0, and only with effect NoExecute")
    if len(r.problems) > problems:
        return None
    return Toleration(key, operator, value, effect, as_int(seconds) if seconds is not None else None)


def _model(r: Reader, local: bool) -> ModelSettings:
    return ModelSettings(
        source=r.text("modelSource", choices=MODEL_SOURCES),
        url=r.text("modelUrl", values.MODEL_URL, optional=True),
        hf_repo=r.text("modelHfRepo", values.HF_REPO, optional=True),
        hf_revision=r.text("modelHfRevision", values.COMMIT, optional=True),
        file_name=r.text("modelFile", values.MODEL_FILE),
        sha256=r.text("modelSha256", values.SHA256, optional=True),
        mount_path=r.text("modelMountPath", values.ABSOLUTE_FOLDER),
        storage_size=r.text("modelStorageSize", values.MEMORY),
        storage_class=r.text("modelStorageClass", values.DNS_SUBDOMAIN, optional=True),
        existing_claim=r.text("modelExistingClaim", values.DNS_SUBDOMAIN, optional=True),
        fetcher_image=images.image(r, "modelFetcherImage", local_registry=local),
        auth_secret=r.text("modelAuthSecret", values.DNS_SUBDOMAIN, optional=True),
        auth_secret_key=r.text("modelAuthSecretKey", values.DATA_KEY),
    )
