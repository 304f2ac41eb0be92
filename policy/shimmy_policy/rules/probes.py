"""probes (advisory): readiness and liveness probes, never on /metrics."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from shimmy_facts import HEALTH_PATH, METRICS_PATH

from shimmy_policy.props import get
from shimmy_policy.rule_types import ADVISORY, Finding, Subject
from shimmy_policy.workloads import Container, Workload, container_rule

NAME = "probes"


def check(at: Subject, w: Workload, c: Container, config: Mapping[str, Any]) -> list[Finding]:
    findings = []
    missing = [p for p in ("readinessProbe", "livenessProbe") if not c.spec.get(p)]
    if missing:
        findings.append(
            at.violation(
                f"no {' and no '.join(missing)}",
                f"add httpGet probes on {HEALTH_PATH} at the bound port "
                "(and a startupProbe covering model load)",
            )
        )
    for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
        if get(c.spec, probe, "httpGet", "path") == METRICS_PATH:
            findings.append(
                at.violation(
                    f"{probe} calls {METRICS_PATH}, which runs nvidia-smi on every call",
                    f"probe {HEALTH_PATH}",
                )
            )
    return findings


RULE = container_rule(
    name=NAME,
    level=ADVISORY,
    description="A shimmy container has readiness and liveness probes, not on /metrics.",
    catches="no readiness/liveness probe, a probe on /metrics (runs nvidia-smi)",
    check=check,
)
