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
from shimmy_policy.container_fields import literal_env
from shimmy_policy.locations import Path, api_kind, dotted
from shimmy_policy.podspecs import Pod, pod_specs
from shimmy_policy.props import get, is_secret, is_unknown, items, mapping, reveal
from shimmy_policy.recognition import RECOGNITION_SCHEMA, Recognition
from shimmy_policy.rule_types import Finding, Level, Remediation, Resource, ResourceRule, Schema, Subject


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
    group: str  # the API group ("core" for the core group)
    name: str  # metadata.name, else the Pulumi resource name
    namespace: str | None
    spec: Mapping[str, Any]  # the resource's own spec (strategy lives here)
    built_in: bool  # a built-in kind: messages need not say where in the object a container is
    pods: tuple[Pod, ...]
    shimmy: tuple[Container, ...]
    unreadable: tuple[Path, ...] = ()  # pod specs (or parts) unknown during preview

    @property
    def where(self) -> str:
        """`Deployment "llm"`; other kinds with their group, as kubectl names them:
        `Service.serving.knative.dev "llm"` is a Knative Service, never a core one."""
        kind = self.kind if self.built_in else f"{self.kind}.{self.group}"
        return f'{kind} "{self.name}"'

    def describe(self, container: Container) -> str:
        at = "" if self.built_in else f" ({dotted(container.path)})"
        return f'{self.where} container "{container.name}"{at}'

    def describe_pod(self, pod: Pod) -> str:
        return self.where if self.built_in else f"{self.where} ({dotted(pod.path)})"


def _shimmy(
    path: Path, name: str, spec: Mapping[str, Any], pod: Pod, recognition: Recognition
) -> Container | None:
    command = [t for t in items(spec.get("command")) if isinstance(t, str)]
    args = [t for t in items(spec.get("args")) if isinstance(t, str)]
    run = invocation(command, args, literal_env(spec), recognition.executables)
    if is_unknown(spec.get("command")) or is_unknown(spec.get("args")):
        run = Invocation(run.tokens, run.editable, True)
    return Container(path, name, spec, run, pod) if recognition.is_shimmy(spec, pod.labels, run) else None


def workload(resource: Resource, recognition: Recognition) -> Workload | None:
    """The workload view of a Kubernetes object that runs pods; None for any other resource."""
    kind = api_kind(resource.type)
    if kind is None or any(kind.matches(pattern) for pattern in recognition.exclude_kinds):
        return None
    props = resource.props
    found = pod_specs(kind, props, recognition.extra_paths)
    if not (found.located or found.pods):
        return None
    shimmy = [
        c
        for pod in found.pods
        for path, spec, name in pod.containers
        if (c := _shimmy(path, name, spec, pod, recognition)) is not None
    ]
    name = get(props, "metadata", "name")
    namespace = get(props, "metadata", "namespace")
    return Workload(
        kind=kind.kind,
        group=kind.group,
        name=name if isinstance(name, str) and not is_unknown(name) else resource.name,
        namespace=namespace if isinstance(namespace, str) else None,
        spec=mapping(props.get("spec")),
        built_in=kind.built_in,
        pods=found.pods,
        shimmy=tuple(shimmy),
        unreadable=found.unreadable,
    )


# --- rules on workloads ---------------------------------------------------------------------------

ContainerCheck = Callable[[Subject, Workload, Container, Mapping[str, Any]], list[Finding]]
# Rewrites one shimmy container on the wire (in place); False: it cannot be fixed safely.
ContainerFix = Callable[[Workload, Container, dict[str, Any], Mapping[str, Any]], bool]
WorkloadCheck = Callable[[Subject, Workload, Mapping[str, Any]], list[Finding]]


def unreadable(rule: str, w: Workload) -> list[Finding]:
    """A pod spec unknown during preview may hold a shimmy container: say so, never pass silently."""
    return [Subject(rule, w.where).pending(f"the pod spec at {dotted(path)}") for path in w.unreadable]


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
        findings = unreadable(name, w)
        return findings + [f for c in w.shimmy for f in check(container_subject(name, w, c), w, c, config)]

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
        if w is None:
            return []
        return unreadable(name, w) + (check(Subject(name, w.where), w, config) if w.shimmy else [])

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
