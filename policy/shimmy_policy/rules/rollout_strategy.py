"""rollout-strategy (advisory): no surge pod that waits forever for the GPU the old pod holds."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from shimmy_policy.props import get, mapping
from shimmy_policy.rule_types import ADVISORY, Finding, Subject
from shimmy_policy.workloads import Workload, workload_rule

NAME = "rollout-strategy"


def _surges(value: Any) -> bool:
    return str(value).strip() not in ("0", "0%", "0.0")


def check(at: Subject, w: Workload, config: Mapping[str, Any]) -> list[Finding]:
    if w.kind == "Deployment":
        strategy = mapping(w.spec.get("strategy"))
        if strategy.get("type", "RollingUpdate") == "RollingUpdate":
            surge = get(strategy, "rollingUpdate", "maxSurge")
            surge = "25%" if surge is None else surge  # the Deployment default
            if _surges(surge):
                return [
                    at.violation(
                        f"RollingUpdate with maxSurge {surge}: "
                        "with one GPU per node the new pod waits for the GPU the old pod holds, "
                        "and the rollout never ends",
                        "set `strategy: {type: Recreate}` (or rollingUpdate.maxSurge: 0)",
                    )
                ]
    if w.kind == "DaemonSet":
        surge = get(w.spec, "updateStrategy", "rollingUpdate", "maxSurge")
        if surge is not None and _surges(surge):
            return [
                at.violation(
                    f"updateStrategy maxSurge {surge}: the surge pod waits for the node's GPU forever",
                    "set updateStrategy.rollingUpdate.maxSurge: 0",
                )
            ]
    return []


RULE = workload_rule(
    name=NAME,
    level=ADVISORY,
    description="A shimmy Deployment/DaemonSet rolls out without a surge pod that waits for a GPU forever.",
    catches="RollingUpdate with maxSurge > 0 (the default 25% included)",
    check=check,
)
