"""shimmy as other teams deploy inference servers: every kind that carries a pod spec, beyond the seven.

Each builder returns the object as the engine hands it to the pack (what `apiextensions.CustomResource`,
a YAML ConfigGroup or a Helm chart registers: apiVersion, kind, metadata, spec), with the shimmy
container of the shipped program, fields overridden. `KINDS` names them; for each kind the corpus
has a correct variant and two misconfigured ones (no GPU; no `--gpu-backend cuda`).

An engine test declares the same objects with `custom_resource_args` (CustomResource's arguments)
or, for the core kinds, a ConfigGroup of the document.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import yaml

from tests.policy.corpus.builders import LABELS, shimmy_container
from tests.policy.corpus.case import Case

META = {"name": "llm", "namespace": "shimmy"}
WITHOUT_GPU = {"resources": {"limits": {"cpu": "4", "memory": "12Gi"}}}
WITHOUT_FLAG = {"args": ["serve", "--bind", "0.0.0.0:8081", "--model-path", "/models/a.gguf"]}


def _template(**container: Any) -> dict[str, Any]:
    return {"metadata": {"labels": dict(LABELS)}, "spec": {"containers": [shimmy_container(**container)]}}


def _object(api_version: str, kind: str, spec: dict[str, Any]) -> dict[str, Any]:
    return {"apiVersion": api_version, "kind": kind, "metadata": dict(META), "spec": spec}


def replication_controller(**container: Any) -> dict[str, Any]:
    return _object(
        "v1",
        "ReplicationController",
        {"replicas": 1, "selector": dict(LABELS), "template": _template(**container)},
    )


def pod_template(**container: Any) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "PodTemplate",
        "metadata": dict(META),
        "template": _template(**container),
    }


def argo_rollout(**container: Any) -> dict[str, Any]:
    spec = {
        "replicas": 1,
        "selector": {"matchLabels": dict(LABELS)},
        "strategy": {"canary": {"steps": [{"setWeight": 100}]}},
        "template": _template(**container),
    }
    return _object("argoproj.io/v1alpha1", "Rollout", spec)


def kserve_containers(**container: Any) -> dict[str, Any]:
    """A custom predictor: `spec.predictor` is a pod spec of its own."""
    predictor = {"minReplicas": 1, "containers": [shimmy_container(name="kserve-container", **container)]}
    return _object("serving.kserve.io/v1beta1", "InferenceService", {"predictor": predictor})


def kserve_model(**container: Any) -> dict[str, Any]:
    """A model predictor: `spec.predictor.model` is one container (KServe names it kserve-container)."""
    model = {k: v for k, v in shimmy_container(**container).items() if k != "name"}
    model.update(modelFormat={"name": "gguf"}, storageUri="pvc://models/a.gguf")
    return _object("serving.kserve.io/v1beta1", "InferenceService", {"predictor": {"model": model}})


def kserve_runtime(**container: Any) -> dict[str, Any]:
    """The container template of the InferenceServices that use the runtime."""
    spec = {
        "supportedModelFormats": [{"name": "gguf", "autoSelect": True}],
        "containers": [shimmy_container(name="kserve-container", **container)],
    }
    return _object("serving.kserve.io/v1alpha1", "ServingRuntime", spec)


def knative_service(**container: Any) -> dict[str, Any]:
    return _object("serving.knative.dev/v1", "Service", {"template": _template(**container)})


def kruise_cloneset(**container: Any) -> dict[str, Any]:
    spec = {"replicas": 1, "selector": {"matchLabels": dict(LABELS)}, "template": _template(**container)}
    return _object("apps.kruise.io/v1alpha1", "CloneSet", spec)


def leader_worker_set(**container: Any) -> dict[str, Any]:
    spec = {"replicas": 1, "leaderWorkerTemplate": {"size": 1, "workerTemplate": _template(**container)}}
    return _object("leaderworkerset.x-k8s.io/v1", "LeaderWorkerSet", spec)


def ray_cluster(**container: Any) -> dict[str, Any]:
    """Found by the search: a head group that is not shimmy and a worker group that is."""
    head = {"metadata": {"labels": {"ray.io/node-type": "head"}}, "spec": {"containers": [RAY_HEAD]}}
    workers = [{"groupName": "shimmy", "replicas": 1, "template": _template(**container)}]
    spec = {"headGroupSpec": {"rayStartParams": {}, "template": head}, "workerGroupSpecs": workers}
    return _object("ray.io/v1", "RayCluster", spec)


def kubeflow_pytorchjob(**container: Any) -> dict[str, Any]:
    """Found by the search: replica specs keyed by role."""
    master = {"replicas": 1, "restartPolicy": "OnFailure", "template": _template(**container)}
    return _object("kubeflow.org/v1", "PyTorchJob", {"pytorchReplicaSpecs": {"Master": master}})


RAY_HEAD = {"name": "ray-head", "image": "rayproject/ray:2.40.0", "ports": [{"containerPort": 6379}]}

KINDS: dict[str, Callable[..., dict[str, Any]]] = {
    "replicationcontroller": replication_controller,
    "podtemplate": pod_template,
    "argo-rollout": argo_rollout,
    "kserve-containers": kserve_containers,
    "kserve-model": kserve_model,
    "kserve-servingruntime": kserve_runtime,
    "knative-service": knative_service,
    "kruise-cloneset": kruise_cloneset,
    "leaderworkerset": leader_worker_set,
    "ray-cluster": ray_cluster,
    "kubeflow-pytorchjob": kubeflow_pytorchjob,
}
# Kinds that need no Service of the stack (their operator routes to the pods, or they run none).
WITHOUT_SERVICE = {
    "podtemplate",
    "kserve-containers",
    "kserve-model",
    "kserve-servingruntime",
    "knative-service",
}


# The shimmy container's name where it is not "shimmy" (KServe names its model container itself).
CONTAINER = {kind: "kserve-container" for kind in KINDS if kind.startswith("kserve-")}


def _case(kind: str, variant: str, rule: str | None, **container: Any) -> Case:
    expected = frozenset({(rule, CONTAINER.get(kind, "shimmy"))} if rule else ())
    return Case(f"{kind}-{variant}", yaml.safe_dump(KINDS[kind](**container), sort_keys=False), expected)


KINDS_CORRECT = [_case(kind, "correct", None) for kind in KINDS]
KINDS_MISCONFIGURED = [
    *(_case(kind, "without-gpu", "gpu-resource", **WITHOUT_GPU) for kind in KINDS),
    *(_case(kind, "without-gpu-flag", "gpu-backend-flag", **WITHOUT_FLAG) for kind in KINDS),
]


def custom_resource_args(document: dict[str, Any]) -> dict[str, Any]:
    """`pulumi_kubernetes.apiextensions.CustomResource(name, **custom_resource_args(doc))`."""
    extra = set(document) - {"apiVersion", "kind", "metadata", "spec"}
    if extra:
        raise ValueError(f"{document['kind']} has top-level {sorted(extra)}: declare it with a ConfigGroup")
    return {
        "api_version": document["apiVersion"],
        "kind": document["kind"],
        "metadata": document["metadata"],
        "spec": document["spec"],
    }
