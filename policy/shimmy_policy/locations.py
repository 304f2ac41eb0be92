"""Where each kind keeps its pod specs: type tokens, known locations, and those a stack configures.

Known: the built-in kinds' pod templates (Pod, PodTemplate, ReplicationController, ReplicaSet,
Deployment, StatefulSet, DaemonSet, Job, CronJob) and common inference CRDs by group and kind
(Argo Rollouts, KServe, Knative, OpenKruise, LeaderWorkerSet), KServe's single model containers
included. A stack adds locations with `extraPodSpecPaths`; podspecs.py reads them all and searches
the rest.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

Path = tuple[str | int, ...]
WILDCARD = "*"

# Type tokens under kubernetes: that are not API objects but Pulumi components or a Helm release
# (kubernetes:yaml:ConfigFile, kubernetes:yaml/v2:ConfigGroup, kubernetes:helm.sh/v4:Chart, ...).
# Their children are registered, and checked, as objects of their own; a Release renders in the cluster.
NOT_OBJECTS = frozenset({"yaml", "helm.sh", "kustomize"})
BUILT_IN_GROUPS = frozenset({"core", "apps", "batch", "extensions"})


@dataclass(frozen=True)
class ApiKind:
    group: str  # "core" for the core group, as in type tokens
    version: str
    kind: str

    @property
    def api_version(self) -> str:
        return self.version if self.group == "core" else f"{self.group}/{self.version}"

    @property
    def built_in(self) -> bool:
        return self.group in BUILT_IN_GROUPS and self.kind in BUILT_IN

    def matches(self, pattern: str) -> bool:
        """`Kind`, `group/Kind` or `apiVersion/Kind` (e.g. Rollout, argoproj.io/Rollout, v1/Pod)."""
        prefix, _, kind = pattern.rpartition("/")
        return kind == self.kind and prefix in ("", self.group, self.api_version)


def api_kind(resource_type: str) -> ApiKind | None:
    """`kubernetes:argoproj.io/v1alpha1:Rollout` -> its group, version and kind; None for anything else."""
    provider, _, rest = resource_type.partition(":")
    group_version, _, kind = rest.partition(":")
    group, _, version = group_version.rpartition("/")
    if provider != "kubernetes" or not (group and version and kind) or group in NOT_OBJECTS:
        return None
    return ApiKind(group, version, kind)


def steps(dotted: str) -> Path:
    """`spec.workerGroupSpecs.*.template` -> ("spec", "workerGroupSpecs", "*", "template")."""
    return tuple(int(s) if s.isdigit() else s for s in dotted.split(".") if s)


def dotted(path: Path) -> str:
    """("spec", "containers", 0) -> `spec.containers[0]`."""
    out = ""
    for step in path:
        out += f"[{step}]" if isinstance(step, int) else f".{step}" if out else step
    return out


@dataclass(frozen=True)
class PodLocation:
    spec: Path  # the pod spec: holds the container lists and pod-level fields (tolerations, ...)
    labels: tuple[Path, ...] = ()  # label maps its pods carry, merged in order
    lists: tuple[str, ...] = ("containers",)  # keys of the pod spec holding lists of containers
    singles: tuple[str | int, ...] = ()  # keys of the pod spec holding one container each
    single_name: str | None = None  # the name a single container gets when it sets none (else its key)


def template(*path: str | int) -> PodLocation:
    """A PodTemplateSpec at `path`: its metadata carries the pods' labels, its spec is the pod spec."""
    return PodLocation(spec=(*path, "spec"), labels=((*path, "metadata", "labels"),))


def _kserve(*component: str, singles: Sequence[str] = ()) -> PodLocation:
    """An InferenceService component: a pod spec of its own, labelled with the object's and its labels."""
    path = ("spec", *component)
    labels = (("metadata", "labels"), (*path, "labels"))
    return PodLocation(spec=path, labels=labels, singles=tuple(singles), single_name="kserve-container")


# KServe v1beta1: each of these holds one container (the "kserve-container") next to the pod fields.
KSERVE_PREDICTORS = (
    "model", "huggingface", "sklearn", "xgboost", "lightgbm", "tensorflow", "pytorch", "triton", "onnx",
    "pmml", "paddle",
)  # fmt: skip
KSERVE_EXPLAINERS = ("art", "alibi")

BUILT_IN: dict[str, tuple[PodLocation, ...]] = {
    "Pod": (template(),),
    "PodTemplate": (template("template"),),
    "ReplicationController": (template("spec", "template"),),
    "ReplicaSet": (template("spec", "template"),),
    "Deployment": (template("spec", "template"),),
    "StatefulSet": (template("spec", "template"),),
    "DaemonSet": (template("spec", "template"),),
    "Job": (template("spec", "template"),),
    "CronJob": (template("spec", "jobTemplate", "spec", "template"),),
}
CUSTOM: dict[tuple[str, str], tuple[PodLocation, ...]] = {
    ("argoproj.io", "Rollout"): (template("spec", "template"),),
    ("serving.knative.dev", "Service"): (template("spec", "template"),),
    ("serving.knative.dev", "Configuration"): (template("spec", "template"),),
    ("serving.knative.dev", "Revision"): (PodLocation(spec=("spec",), labels=(("metadata", "labels"),)),),
    ("serving.kserve.io", "InferenceService"): (
        _kserve("predictor", singles=KSERVE_PREDICTORS),
        _kserve("predictor", "workerSpec"),
        _kserve("transformer"),
        _kserve("explainer", singles=KSERVE_EXPLAINERS),
    ),
    # The container template of the InferenceServices that use the runtime.
    ("serving.kserve.io", "ServingRuntime"): (PodLocation(spec=("spec",), labels=(("spec", "labels"),)),),
    ("serving.kserve.io", "ClusterServingRuntime"): (
        PodLocation(spec=("spec",), labels=(("spec", "labels"),)),
    ),
    ("apps.kruise.io", "CloneSet"): (template("spec", "template"),),
    ("apps.kruise.io", "StatefulSet"): (template("spec", "template"),),
    ("apps.kruise.io", "DaemonSet"): (template("spec", "template"),),
    ("leaderworkerset.x-k8s.io", "LeaderWorkerSet"): (
        template("spec", "leaderWorkerTemplate", "leaderTemplate"),
        template("spec", "leaderWorkerTemplate", "workerTemplate"),
    ),
}


def known_locations(kind: ApiKind) -> tuple[PodLocation, ...]:
    if kind.built_in:
        return BUILT_IN[kind.kind]
    return CUSTOM.get((kind.group, kind.kind), ())


def extra_location(entry: Mapping[str, Any]) -> tuple[str, PodLocation] | None:
    """A policy config entry `{kind, path}` (a pod spec) or `{kind, containerPath}` (one container)."""
    kind, path, container = entry.get("kind"), entry.get("path"), entry.get("containerPath")
    if not isinstance(kind, str):
        return None
    if isinstance(path, str):
        spec = steps(path)
        labels = ((*spec[:-1], "metadata", "labels"),) if spec[-1:] == ("spec",) else ()
        return kind, PodLocation(spec=spec, labels=labels)
    if isinstance(container, str) and steps(container):
        at = steps(container)
        return kind, PodLocation(spec=at[:-1], lists=(), singles=(at[-1],))
    return None
