"""The validated settings of one stack: frozen, so every builder sees the same values."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

# The keys that take one of a few words: config.py and monitoring.py refuse any other.
Accelerator = Literal["cuda", "cpu"]  # "cuda" (the product) or "cpu" (GPU-less dev clusters)
SourceKind = Literal["crate", "git"]  # the sha256-pinned .crate from crates.io, or URL + tag or commit
Platform = Literal["linux/amd64", "linux/arm64"]
ModelSource = Literal["huggingface", "url", "pvc"]
ServiceType = Literal["ClusterIP", "NodePort", "LoadBalancer"]
RustLog = Literal["error", "warn", "info", "debug", "trace"]
TolerationOperator = Literal["Equal", "Exists"]
TolerationEffect = Literal["NoSchedule", "PreferNoSchedule", "NoExecute"]
MonitoringMode = Literal["none", "annotations", "prometheus-operator"]


@dataclass(frozen=True)
class ShimmySource:
    version: str
    source: SourceKind
    crate_sha256: str
    git_url: str
    git_ref: str
    features: tuple[str, ...]
    patches: tuple[str, ...]  # this project's patches (facts.PATCHES), in the order they apply

    def patched(self, name: str) -> bool:
        return name in self.patches


@dataclass(frozen=True)
class BuildSettings:
    accelerator: Accelerator
    shimmy: ShimmySource
    cuda_version: str
    cuda_architectures: tuple[str, ...]
    builder_image: str
    rust_image: str
    runtime_image: str
    build_jobs: int  # 0: every core of the builder
    platform: Platform


@dataclass(frozen=True)
class ImageSettings:
    registry_server: str
    repository: str
    tag: str
    username: str
    password: str | None  # a Pulumi secret; wrapped as a secret Output again where used
    push: bool
    build_cache: bool  # build from the registry's copy of the last image (BuildKit inline cache)

    @property
    def name(self) -> str:
        return f"{self.registry_server}/{self.repository}:{self.tag}"


@dataclass(frozen=True)
class Toleration:
    key: str
    operator: TolerationOperator
    value: str
    effect: Literal["", TolerationEffect]  # "": every effect
    toleration_seconds: int | None


@dataclass(frozen=True)
class WorkloadSettings:
    namespace: str
    create_namespace: bool  # false: the namespace exists already and the stack does not own it
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
    rust_log: RustLog
    startup_timeout_seconds: int
    shutdown_timeout_seconds: int  # after SIGTERM, the drain of shimmy (graceful-shutdown) and the gate
    rollout_timeout_minutes: int  # `pulumi up` gives up on a rollout that never becomes available


@dataclass(frozen=True)
class ModelSettings:
    source: ModelSource
    url: str
    hf_repo: str
    hf_revision: str  # a commit SHA: a branch or tag could move under the pinned sha256
    file_name: str
    sha256: str
    mount_path: str
    storage_size: str
    storage_class: str
    existing_claim: str
    fetcher_image: str
    auth_secret: str  # a Secret in the namespace whose `auth_secret_key` is a bearer token; "" for none
    auth_secret_key: str

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
    type: ServiceType
    port: int
    allow_external: bool  # NodePort/LoadBalancer only when the stack says so


@dataclass(frozen=True)
class NetworkSettings:
    policy: bool  # a NetworkPolicy admits only the clients below
    client_namespaces: tuple[str, ...]  # besides the stack's own namespace
    client_pod_labels: tuple[tuple[str, str], ...]  # empty: any pod of those namespaces
    client_cidrs: tuple[str, ...]  # clients outside the cluster (NodePort/LoadBalancer)


@dataclass(frozen=True)
class GateSettings:
    """The request gate in front of shimmy: at most `limit` generations at once, `queue` more waiting
    up to `queue_timeout_seconds`. `limit` is also shimmy's own context count (resident-model)."""

    enabled: bool
    limit: int
    queue: int
    queue_timeout_seconds: int
    request_defaults: tuple[tuple[str, float], ...]  # body fields set where a client sends none
    image: str  # a Python 3 image; the gate is the standard library only


@dataclass(frozen=True)
class VerificationSettings:
    enabled: bool
    min_decode_tokens_per_second: int
    image: str


@dataclass(frozen=True)
class MonitoringSettings:
    mode: MonitoringMode
    namespace: str  # the monitoring stack's: reaches the metrics port, holds the dashboard
    labels: tuple[tuple[str, str], ...]  # on the operator's objects, for its selectors
    metrics_port: int
    latency_objective_seconds: float  # one of gate_series.LATENCY_BUCKETS


@dataclass(frozen=True)
class DeploymentSettings:
    """What shimmy's Deployment is made of, and what the objects around it know it by: the part of
    `Settings` that the service, verification and monitoring components read."""

    stack: str
    accelerator: Accelerator
    shimmy: ShimmySource
    workload: WorkloadSettings
    model: ModelSettings
    gate: GateSettings
    monitoring: MonitoringSettings


@dataclass(frozen=True)
class Settings:
    stack: str
    build: BuildSettings
    image: ImageSettings
    workload: WorkloadSettings
    model: ModelSettings
    service: ServiceSettings
    network: NetworkSettings
    gate: GateSettings
    verification: VerificationSettings
    monitoring: MonitoringSettings
    render_manifests_to: str  # a folder: render YAML instead of talking to a cluster
    kube_context: str

    @property
    def deployment(self) -> DeploymentSettings:
        return DeploymentSettings(
            stack=self.stack,
            accelerator=self.build.accelerator,
            shimmy=self.build.shimmy,
            workload=self.workload,
            model=self.model,
            gate=self.gate,
            monitoring=self.monitoring,
        )
