"""gpu-resource: a shimmy container gets a whole GPU through its limits (remediable)."""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence
from typing import Any

from shimmy_facts import GPU_RESOURCE

from shimmy_policy.props import get, holds_secret, is_unknown, mapping, whole_count
from shimmy_policy.rule_types import MANDATORY, Finding, Subject
from shimmy_policy.workloads import Container, Workload, container_rule

NAME = "gpu-resource"


def _gpu(c: Container, names: Sequence[str]) -> tuple[str, int]:
    """The GPU resource name the container uses (else the first accepted one), and the count to set."""
    resources = c.spec.get("resources")
    limits, requests = mapping(get(resources, "limits")), mapping(get(resources, "requests"))
    name = next((n for n in names if n in limits), None) or next(
        (n for n in names if n in requests), names[0]
    )
    limit, request = whole_count(limits.get(name)), whole_count(requests.get(name))
    count = limit if limit and limit >= 1 else request if request and request >= 1 else 1
    return name, count


def check(at: Subject, w: Workload, c: Container, config: Mapping[str, Any]) -> list[Finding]:
    names = config["resourceNames"]
    resources = c.spec.get("resources")
    limits, requests = get(resources, "limits"), get(resources, "requests")
    if any(is_unknown(v) for v in (resources, limits, requests)):
        return [at.pending("resources")]
    limits, requests = mapping(limits), mapping(requests)
    name, count = _gpu(c, names)
    if is_unknown(limits.get(name)) or is_unknown(requests.get(name)):
        return [at.pending(f"the {name} count")]
    limit, request = whole_count(limits.get(name)), whole_count(requests.get(name))
    findings = []
    if name not in limits and name in requests:
        findings.append(
            at.violation(
                f"{name} is only in resources.requests; "
                "GPUs are granted through limits, so no GPU is attached",
                f'set resources.limits["{name}"]: {count}',
            )
        )
    elif name not in limits:
        findings.append(
            at.violation(
                f"resources.limits has no {' or '.join(names)}: "
                "the pod is scheduled without a GPU and shimmy runs on the CPU",
                f'set resources.limits["{name}"]: 1',
            )
        )
    elif limit is None or limit < 1:
        findings.append(
            at.violation(
                f'resources.limits["{name}"] is {limits[name]!r}, not a whole number >= 1',
                f'set resources.limits["{name}"]: {count}',
            )
        )
    if name in limits and name in requests and request != limit:
        findings.append(
            at.violation(
                f'resources.requests["{name}"] is {requests[name]!r} but the limit is {limits[name]!r}; for '
                "GPUs they must be equal",
                f'set resources.requests["{name}"] to the limit or remove it',
            )
        )
    return findings


def fix(w: Workload, c: Container, wire: dict[str, Any], config: Mapping[str, Any]) -> bool:
    """Set the GPU limit (the count a whole-number request asks for, else 1); a GPU request equals it."""
    if holds_secret(wire.get("resources")):
        return False
    name, count = _gpu(c, config["resourceNames"])
    resources = copy.deepcopy(mapping(wire.get("resources")))
    resources = {**resources, "limits": {**mapping(resources.get("limits")), name: str(count)}}
    if name in mapping(resources.get("requests")):
        resources["requests"] = {**mapping(resources["requests"]), name: str(count)}
    wire["resources"] = resources
    return True


RULE = container_rule(
    name=NAME,
    level=MANDATORY,
    description="A shimmy container requests a whole number (>= 1) of GPUs in limits; requests, if set, "
    "equal it.",
    catches="no GPU limit, a GPU only in requests, 0 or fractional GPUs, requests unequal to limits",
    check=check,
    fix=fix,
    options={
        "resourceNames": {
            "type": "array",
            "items": {"type": "string"},
            "minItems": 1,
            "default": [GPU_RESOURCE],
            "description": "Accepted GPU resource names (e.g. nvidia.com/mig-1g.10gb); remediation adds the "
            "first.",
        },
    },
)
