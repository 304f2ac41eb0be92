"""The workload view of a resource (its pods and their shimmy containers), and rules built on it.

A rule about containers is a function of (subject, workload, container, config); `container_rule`
makes it a resource rule that runs it on every shimmy container, and `workload_rule` does the same
for a function of the whole workload. Both read the shared recognition config keys.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from shimmy_policy.cmdline import Invocation, invocation
from shimmy_policy.model import Finding, Level, Remediation, Resource, ResourceRule, Schema, Subject
from shimmy_policy.props import get, is_secret, is_unknown, items, mapping, reveal
from shimmy_policy.readers import literal_env
from shimmy_policy.recognition import RECOGNITION_SCHEMA, Recognition

Path = tuple[str | int, ...]

# Where each kind keeps its pod template (Pod: the object itself). API group and version do not matter.
POD_TEMPLATE: dict[str, Path] = {
    "Pod": (),
    "Deployment": ("spec", "template"),
    "StatefulSet": ("spec", "template"),
    "DaemonSet": ("spec", "template"),
    "ReplicaSet": ("spec", "template"),
    "Job": ("spec", "template"),
    "CronJob": ("spec", "jobTemplate", "spec", "template"),
}


@dataclass(frozen=True)
class Pod:
    path: Path  # where its pod spec lives in the resource's properties
    spec: Mapping[str, Any]
    labels: Mapping[str, Any]


@dataclass(frozen=True)
class Container:
    path: Path  # where the container lives in the resource's properties
    name: str
    spec: Mapping[str, Any]
    run: Invocation
    pod: Pod


@dataclass(frozen=True)
class Workload:
    kind: str
    name: str  # metadata.name, else the Pulumi resource name
    namespace: str | None
    spec: Mapping[str, Any]  # the resource's own spec (strategy lives here)
    pods: tuple[Pod, ...]
    shimmy: tuple[Container, ...]

    @property
    def where(self) -> str:
        return f'{self.kind} "{self.name}"'

    def describe(self, container: Container) -> str:
        return f'{self.where} container "{container.name}"'


def kind_of(resource_type: str) -> str | None:
    """`kubernetes:apps/v1:Deployment` -> `Deployment` (None for other providers and kinds)."""
    if not resource_type.startswith("kubernetes:"):
        return None
    kind = resource_type.rsplit(":", 1)[-1]
    return kind if kind in POD_TEMPLATE else None


def _container(path: Path, index: int, spec: Mapping[str, Any], pod: Pod, recognition: Recognition):
    command = [t for t in items(spec.get("command")) if isinstance(t, str)]
    args = [t for t in items(spec.get("args")) if isinstance(t, str)]
    run = invocation(command, args, literal_env(spec), recognition.executables)
    if is_unknown(spec.get("command")) or is_unknown(spec.get("args")):
        run = Invocation(run.tokens, run.editable, True)
    if not recognition.is_shimmy(spec, pod.labels, run):
        return None
    return Container(path, str(spec.get("name", f"#{index}")), spec, run, pod)


def workload(resource: Resource, recognition: Recognition) -> Workload | None:
    """The workload view of a resource with a pod template; None for any other resource."""
    kind = kind_of(resource.type)
    if kind is None:
        return None
    props = resource.props
    template_path = POD_TEMPLATE[kind]
    template = mapping(get(props, *template_path))
    pod = Pod(
        (*template_path, "spec"), mapping(template.get("spec")), mapping(get(template, "metadata", "labels"))
    )
    shimmy = []
    for index, spec in enumerate(items(pod.spec.get("containers"))):
        found = _container((*pod.path, "containers", index), index, mapping(spec), pod, recognition)
        if found is not None:
            shimmy.append(found)
    name = get(props, "metadata", "name")
    namespace = get(props, "metadata", "namespace")
    return Workload(
        kind=kind,
        name=name if isinstance(name, str) and not is_unknown(name) else resource.name,
        namespace=namespace if isinstance(namespace, str) else None,
        spec=mapping(props.get("spec")),
        pods=(pod,),
        shimmy=tuple(shimmy),
    )


# --- rules on workloads ---------------------------------------------------------------------------

ContainerCheck = Callable[[Subject, Workload, Container, Mapping[str, Any]], list[Finding]]
# Rewrites one shimmy container on the wire (in place); False: it cannot be fixed safely.
ContainerFix = Callable[[Workload, Container, dict[str, Any], Mapping[str, Any]], bool]
WorkloadCheck = Callable[[Subject, Workload, Mapping[str, Any]], list[Finding]]


def container_subject(rule: str, w: Workload, c: Container) -> Subject:
    return Subject(rule, w.describe(c), container=c.name)


def container_rule(
    *,
    name: str,
    level: Level,
    description: str,
    catches: str,
    check: ContainerCheck,
    fix: ContainerFix | None = None,
    options: Schema | None = None,
) -> ResourceRule:
    """A resource rule that runs `check` on every shimmy container (and `fix` to remediate one)."""

    def check_resource(resource: Resource, config: Mapping[str, Any]) -> list[Finding]:
        w = workload(resource, Recognition.from_config(config))
        if w is None:
            return []
        return [f for c in w.shimmy for f in check(container_subject(name, w, c), w, c, config)]

    return ResourceRule(
        name=name,
        level=level,
        description=description,
        catches=catches,
        check=check_resource,
        remediate=None if fix is None else _remediation(name, check, fix),
        options=options or {},
        recognition=RECOGNITION_SCHEMA,
    )


def workload_rule(
    *,
    name: str,
    level: Level,
    description: str,
    catches: str,
    check: WorkloadCheck,
    options: Schema | None = None,
) -> ResourceRule:
    """A resource rule that runs `check` once on every workload with a shimmy container."""

    def check_resource(resource: Resource, config: Mapping[str, Any]) -> list[Finding]:
        w = workload(resource, Recognition.from_config(config))
        if w is None or not w.shimmy:
            return []
        return check(Subject(name, w.where), w, config)

    return ResourceRule(
        name=name,
        level=level,
        description=description,
        catches=catches,
        check=check_resource,
        options=options or {},
        recognition=RECOGNITION_SCHEMA,
    )


def _remediation(rule: str, check: ContainerCheck, fix: ContainerFix) -> Remediation:
    """Rewrite only the shimmy containers `check` finds at fault, and only where nothing is deferred.

    The properties are on the wire (secrets as signature maps, unknowns as sentinels) and are returned
    so: only the rewritten fields change. A container inside a secret is not rewritten.
    """

    def remediate(resource: Resource, config: Mapping[str, Any]) -> dict[str, Any] | None:
        readable = Resource(resource.type, resource.name, reveal(resource.props), resource.urn)
        w = workload(readable, Recognition.from_config(config))
        if w is None:
            return None
        result = copy.deepcopy(dict(resource.props))
        changed = False
        for c in w.shimmy:
            findings = check(container_subject(rule, w, c), w, c, config)
            on_wire = get(result, *c.path)
            fixable = isinstance(on_wire, dict) and not is_secret(on_wire)
            if findings and not any(f.deferred for f in findings) and fixable:
                changed |= fix(w, c, on_wire, config)
        return result if changed else None

    return remediate
