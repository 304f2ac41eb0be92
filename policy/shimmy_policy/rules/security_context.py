"""security-context (advisory): the restricted profile; GPU access needs none of what it forbids."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from shimmy_policy.props import get, items, mapping
from shimmy_policy.rule_types import ADVISORY, Finding, Subject
from shimmy_policy.workloads import Container, Workload, container_rule

NAME = "security-context"


def check(at: Subject, w: Workload, c: Container, config: Mapping[str, Any]) -> list[Finding]:
    sc, pod = mapping(c.spec.get("securityContext")), mapping(c.pod.spec.get("securityContext"))
    problems = []
    if sc.get("runAsNonRoot", pod.get("runAsNonRoot")) is not True:
        problems.append("runAsNonRoot is not true")
    if sc.get("allowPrivilegeEscalation") is not False:
        problems.append("allowPrivilegeEscalation is not false")
    if sc.get("privileged") is True:
        problems.append("privileged is true")
    if "ALL" not in items(get(sc, "capabilities", "drop")):
        problems.append("capabilities.drop lacks ALL")
    seccomp = get(sc, "seccompProfile", "type") or get(pod, "seccompProfile", "type")
    if seccomp not in ("RuntimeDefault", "Localhost"):
        problems.append("no RuntimeDefault seccompProfile")
    if not problems:
        return []
    return [
        at.violation(
            "not the restricted profile: " + ", ".join(problems),
            "set runAsNonRoot: true, allowPrivilegeEscalation: false, capabilities.drop: [ALL], "
            "seccompProfile.type: RuntimeDefault (GPU access needs none of what they forbid)",
        )
    ]


RULE = container_rule(
    name=NAME,
    level=ADVISORY,
    description="A shimmy container runs with the restricted security context.",
    catches="root, privilege escalation, capabilities not dropped, no seccomp profile",
    check=check,
)
