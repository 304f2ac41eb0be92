"""shimmy-service (stack rule): a Service selects every shimmy workload's pods and targets the bound port.

Only core Services count (a Knative Service is a workload). Kinds that bring their own routing, or
run no pods themselves, need none: NO_SERVICE_NEEDED, plus what a stack adds with kindsWithoutService.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from shimmy_policy.container_fields import bound_port, declared_ports, front_ports
from shimmy_policy.locations import api_kind
from shimmy_policy.props import get, is_unknown, items, mapping, whole_count
from shimmy_policy.recognition import RECOGNITION_SCHEMA, Recognition
from shimmy_policy.rule_types import MANDATORY, Finding, Resource, StackRule, Subject
from shimmy_policy.workloads import Container, Workload, unreadable, workload

NAME = "shimmy-service"
SERVICE = "kubernetes:core/v1:Service"
NO_SERVICE_NEEDED = (
    "core/PodTemplate",  # a template: the controller that stamps pods from it runs them
    "serving.knative.dev/Service",  # Knative routes to its revisions itself
    "serving.knative.dev/Configuration",
    "serving.knative.dev/Revision",
    "serving.kserve.io/InferenceService",  # KServe creates the Service (or the Knative route)
    "serving.kserve.io/ServingRuntime",  # the container template of InferenceServices
    "serving.kserve.io/ClusterServingRuntime",
)


def _same_namespace(a: Any, b: Any) -> bool:
    known = [n for n in (a, b) if isinstance(n, str) and not is_unknown(n)]
    return len(known) < 2 or known[0] == known[1]


def _selects(service: Resource, w: Workload, c: Container) -> bool | None:
    """Whether the Service selects the container's pods; None: its selector is unknown during preview."""
    if not _same_namespace(get(service.props, "metadata", "namespace"), w.namespace):
        return False
    selector = get(service.props, "spec", "selector")
    if is_unknown(selector) or any(is_unknown(v) for v in mapping(selector).values()):
        return None
    return bool(selector) and all(c.pod.labels.get(k) == v for k, v in mapping(selector).items())


def _target_ports(service: Resource) -> list[Any]:
    ports = items(get(service.props, "spec", "ports"))
    return [get(p, "targetPort") if get(p, "targetPort") is not None else get(p, "port") for p in ports]


def _check_container(
    resource: Resource, w: Workload, c: Container, services: Sequence[Resource], recognition: Recognition
) -> list[Finding]:
    port = bound_port(c.run)
    if port is None:
        return []  # bind-address reports it
    front = front_ports(c.pod.containers, recognition.front_containers)
    if front:  # the Service must reach the front container, which forwards to shimmy
        port = next(iter(front))
        targets = set(front) | {name for name in front.values() if name}
        what = "the port of the container in front of shimmy"
    else:
        targets = {port, declared_ports(c.spec).get(port)} - {None}
        what = "the port shimmy binds"
    at = Subject(NAME, w.where, urn=resource.urn)
    selected = [(s, _selects(s, w, c)) for s in services]
    selecting = [s for s, selects in selected if selects]
    if not selecting and any(selects is None for _, selects in selected):
        return [at.pending("a Service selector")]
    if not selecting:
        labels = dict(c.pod.labels) or "none"
        return [
            at.violation(
                f"no Service selects its pods (pod labels: {labels}), "
                f"so shimmy on port {port} is unreachable",
                f"add a Service whose selector matches the pod labels, with targetPort {port}",
            )
        ]
    findings = []
    for s in selecting:
        wanted = _target_ports(s)
        on_service = Subject(NAME, f'Service "{s.name}"', urn=s.urn)
        if any(is_unknown(t) for t in wanted):
            findings.append(Subject(NAME, w.where, urn=s.urn).pending(f'Service "{s.name}" targetPort'))
        elif not any((whole_count(t) if whole_count(t) is not None else t) in targets for t in wanted):
            findings.append(
                on_service.violation(
                    f"selects {w.where} but no port targets {port}, {what} (targetPorts: "
                    f"{', '.join(map(str, wanted)) or 'none'})",
                    f"set `targetPort: {port}`",
                )
            )
    return findings


def check(resources: Sequence[Resource], config: Mapping[str, Any]) -> list[Finding]:
    recognition = Recognition.from_config(config)
    exempt = (*NO_SERVICE_NEEDED, *config["kindsWithoutService"])
    services = [r for r in resources if r.type == SERVICE]
    findings = []
    for r in resources:
        kind = api_kind(r.type)
        if kind is None or any(kind.matches(pattern) for pattern in exempt):
            continue
        w = workload(r, recognition)
        if w is None:
            continue
        findings += unreadable(NAME, w)
        for c in w.shimmy:
            findings += _check_container(r, w, c, services, recognition)
    return findings


RULE = StackRule(
    name=NAME,
    level=MANDATORY,
    description="Every shimmy workload has a Service that selects its pods "
    "and targets the port shimmy binds.",
    catches="no Service, a selector that misses the pods, a targetPort other than the bound port",
    check=check,
    options={
        "kindsWithoutService": {
            "type": "array",
            "items": {"type": "string"},
            "default": [],
            "description": "Further kinds (Kind, group/Kind or apiVersion/Kind) whose pods need no Service "
            "of the stack: their operator routes to them.",
        },
    },
    recognition=RECOGNITION_SCHEMA,
)
