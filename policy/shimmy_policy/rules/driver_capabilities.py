"""driver-capabilities: NVIDIA_DRIVER_CAPABILITIES, if set, lets the runtime mount the CUDA driver."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from shimmy_facts import COMPUTE_CAPABILITIES

from shimmy_policy.props import get, is_unknown, items
from shimmy_policy.rule_types import MANDATORY, Finding, Subject
from shimmy_policy.workloads import Container, Workload, container_rule

NAME = "driver-capabilities"
VARIABLE = "NVIDIA_DRIVER_CAPABILITIES"


def check(at: Subject, w: Workload, c: Container, config: Mapping[str, Any]) -> list[Finding]:
    findings = []
    for var in items(c.spec.get("env")):
        if get(var, "name") != VARIABLE:
            continue
        value = get(var, "value")
        if is_unknown(value):
            findings.append(at.pending(VARIABLE))
        elif not isinstance(value, str):
            findings.append(
                at.violation(
                    f"{VARIABLE} comes from valueFrom, so the policy cannot see whether it includes compute",
                    "set it as a literal value, e.g. `compute,utility`",
                )
            )
        elif not {cap.strip() for cap in value.split(",")} & COMPUTE_CAPABILITIES:
            findings.append(
                at.violation(
                    f"{VARIABLE}={value!r} lacks compute, so the NVIDIA runtime does not mount the CUDA "
                    "driver library (libcuda.so.1)",
                    "set it to `compute,utility` (or remove it)",
                )
            )
    return findings


RULE = container_rule(
    name=NAME,
    level=MANDATORY,
    description="NVIDIA_DRIVER_CAPABILITIES, if set on a shimmy container, includes compute.",
    catches="`utility` or `graphics` only, a valueFrom the policy cannot read",
    check=check,
)
