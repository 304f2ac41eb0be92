"""Which resources carry a pod template, and which of their containers are shimmy servers."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from shimmy_policy.cmdline import Invocation, invocation, runs_executable
from shimmy_policy.facts import TOOL_SUBCOMMANDS
from shimmy_policy.props import get, is_unknown, items, mapping

# Where each kind keeps its pod template (Pod: the object itself). API group and version do not matter.
POD_TEMPLATE = {
    "Pod": (),
    "Deployment": ("spec", "template"),
    "StatefulSet": ("spec", "template"),
    "DaemonSet": ("spec", "template"),
    "ReplicaSet": ("spec", "template"),
    "Job": ("spec", "template"),
    "CronJob": ("spec", "jobTemplate", "spec", "template"),
}


@dataclass(frozen=True)
class Recognition:
    """How a container is recognised as shimmy (any one signal suffices)."""

    container_names: frozenset[str] = frozenset({"shimmy"})
    # Searched in the image repository (no tag or digest): by default its last path segment.
    image_pattern: str = r"(^|/)[^/]*shimmy[^/]*$"
    pod_labels: Mapping[str, str] = field(default_factory=dict)
    executables: frozenset[str] = frozenset({"shimmy"})

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> Recognition:
        return cls(
            container_names=frozenset(config.get("containerNames", cls.container_names)),
            image_pattern=config.get("imagePattern", cls.image_pattern),
            pod_labels=dict(config.get("podLabels") or {}),
            executables=frozenset(config.get("executables", cls.executables)),
        )


RECOGNITION_SCHEMA: dict[str, dict[str, Any]] = {
    "containerNames": {
        "type": "array",
        "items": {"type": "string"},
        "default": sorted(Recognition.container_names),
        "description": "Container names that are shimmy.",
    },
    "imagePattern": {
        "type": "string",
        "default": Recognition.image_pattern,
        "description": "Regular expression searched in the image repository (without tag or digest).",
    },
    "podLabels": {
        "type": "object",
        "additionalProperties": {"type": "string"},
        "default": {},
        "description": "Pod labels that mark every (non-init) container of the pod as shimmy; empty: unused.",
    },
    "executables": {
        "type": "array",
        "items": {"type": "string"},
        "default": sorted(Recognition.executables),
        "description": "Executable names whose invocation in command/args marks a container as shimmy.",
    },
}


def image_repository(image: str) -> str:
    """`registry:5000/ml/shimmy:1.9@sha256:...` -> `registry:5000/ml/shimmy`."""
    name = image.split("@", 1)[0]
    slash = name.rfind("/")
    colon = name.rfind(":")
    return name[:colon] if colon > slash else name


def literal_env(container: Mapping[str, Any]) -> dict[str, str]:
    """Env vars with a literal value (what `$(VAR)` expands to); valueFrom ones are left out."""
    env: dict[str, str] = {}
    for var in items(container.get("env")):
        value = get(var, "value")
        if isinstance(get(var, "name"), str) and isinstance(value, str) and not is_unknown(value):
            env[var["name"]] = value
    return env


@dataclass(frozen=True)
class Container:
    index: int  # position in the pod's `containers`
    name: str
    spec: Mapping[str, Any]
    run: Invocation


@dataclass(frozen=True)
class Workload:
    kind: str
    name: str  # metadata.name, else the Pulumi resource name
    namespace: str | None
    spec: Mapping[str, Any]  # the resource's own spec (strategy lives here)
    pod_labels: Mapping[str, Any]
    pod_spec: Mapping[str, Any]
    pod_spec_path: tuple[str, ...]
    shimmy: tuple[Container, ...]

    def describe(self, container: Container) -> str:
        return f'{self.kind} "{self.name}" container "{container.name}"'


def kind_of(resource_type: str) -> str | None:
    """`kubernetes:apps/v1:Deployment` -> `Deployment` (None for other providers and kinds)."""
    if not resource_type.startswith("kubernetes:"):
        return None
    kind = resource_type.rsplit(":", 1)[-1]
    return kind if kind in POD_TEMPLATE else None


def is_shimmy(
    container: Mapping[str, Any], pod_labels: Mapping[str, Any], run: Invocation, recognition: Recognition
) -> bool:
    if run.subcommand in TOOL_SUBCOMMANDS:
        return False
    if container.get("name") in recognition.container_names:
        return True
    image = container.get("image")
    known_image = isinstance(image, str) and not is_unknown(image)
    if known_image and re.search(recognition.image_pattern, image_repository(image)):
        return True
    if recognition.pod_labels and all(pod_labels.get(k) == v for k, v in recognition.pod_labels.items()):
        return True
    command = [t for t in items(container.get("command")) if isinstance(t, str)]
    args = [t for t in items(container.get("args")) if isinstance(t, str)]
    return runs_executable(command, args, literal_env(container), recognition.executables)


def workload(
    resource_type: str, resource_name: str, props: Mapping[str, Any], recognition: Recognition
) -> Workload | None:
    """The workload view of a resource with a pod template; None for any other resource."""
    kind = kind_of(resource_type)
    if kind is None:
        return None
    template_path = POD_TEMPLATE[kind]
    template = mapping(get(props, *template_path)) if template_path else props
    pod_labels = mapping(get(template, "metadata", "labels"))
    pod_spec = mapping(template.get("spec"))
    shimmy = []
    for index, container in enumerate(items(pod_spec.get("containers"))):
        container = mapping(container)
        command = [t for t in items(container.get("command")) if isinstance(t, str)]
        args = [t for t in items(container.get("args")) if isinstance(t, str)]
        unknown_line = is_unknown(container.get("command")) or is_unknown(container.get("args"))
        run = invocation(command, args, literal_env(container), recognition.executables)
        if unknown_line:
            run = Invocation(run.tokens, run.editable, True)
        if is_shimmy(container, pod_labels, run, recognition):
            shimmy.append(Container(index, str(container.get("name", f"#{index}")), container, run))
    name = get(props, "metadata", "name")
    namespace = get(props, "metadata", "namespace")
    return Workload(
        kind=kind,
        name=name if isinstance(name, str) and not is_unknown(name) else resource_name,
        namespace=namespace if isinstance(namespace, str) else None,
        spec=mapping(props.get("spec")),
        pod_labels=pod_labels,
        pod_spec=pod_spec,
        pod_spec_path=(*template_path, "spec"),
        shimmy=tuple(shimmy),
    )
