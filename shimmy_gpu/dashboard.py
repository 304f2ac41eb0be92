"""The Grafana dashboard of one stack, as Grafana's dashboard JSON (pure).

Its ConfigMap carries `grafana_dashboard: "1"`, the label Grafana's dashboard sidecar (as
kube-prometheus-stack runs it) loads. Expressions name the stack's namespace outright, so each one is
plain PromQL that tests/monitoring parse with promtool and run against a real Prometheus.
"""

from __future__ import annotations

import json
from typing import Any

from shimmy_gpu import alerts, monitoring, pod_spec
from shimmy_gpu.pod import gate_series as gs
from shimmy_gpu.settings import DeploymentSettings

SIDECAR_LABEL = {"grafana_dashboard": "1"}
FILE = "shimmy.json"
DATASOURCE = {"type": "prometheus", "uid": "${datasource}"}


def quantile(q: float, metric: str, sel: str, by: str = "") -> str:
    return f"histogram_quantile({q}, sum by (le{by}) (rate({metric}_bucket{{{sel}}}[5m])))"


def panels(settings: DeploymentSettings) -> list[tuple[str, str, list[tuple[str, str]]]]:
    """(title, unit, [(expression, legend)]) of each panel, top to bottom."""
    sel = monitoring.selector(settings)
    objective = settings.monitoring.latency_objective_seconds
    return [
        (
            "Requests by outcome",
            "reqps",
            [(f"sum by (outcome) (rate({gs.REQUESTS}{{{sel}}}[5m]))", "{{outcome}}")],
        ),
        ("Share answered 503 by the gate", "percentunit", [(alerts.rejected_ratio(sel), "503")]),
        (
            "Generations in flight and slots",
            "short",
            [(f"sum({gs.IN_FLIGHT}{{{sel}}})", "in flight"), (f"sum({gs.SLOTS}{{{sel}}})", "slots")],
        ),
        (
            "Generations queued and queue capacity",
            "short",
            [(f"sum({gs.QUEUED}{{{sel}}})", "queued"), (f"sum({gs.QUEUE_CAPACITY}{{{sel}}})", "capacity")],
        ),
        (
            "Latency of answered generations",
            "s",
            [
                (quantile(0.5, gs.DURATION, sel, ", route"), "p50 {{route}}"),
                (quantile(0.95, gs.DURATION, sel, ", route"), "p95 {{route}}"),
                (f"vector({gs.number(objective)})", "objective"),
            ],
        ),
        ("Time to first byte, p95", "s", [(quantile(0.95, gs.FIRST_BYTE, sel, ", route"), "{{route}}")]),
        ("Queue wait, p95", "s", [(quantile(0.95, gs.QUEUE_WAIT, sel), "p95")]),
        (
            "Latency budget burn rate (1 = on budget)",
            "short",
            [(f"{alerts.SLOW_RATIO}{w}{{{sel}}} / {alerts.BUDGET}", w) for w in ("5m", "1h", "6h")],
        ),
        ("Tokens generated per second", "short", [(f"sum(rate({gs.TOKENS}{{{sel}}}[5m]))", "tokens/s")]),
        (
            "Tokens per second of one answer, p50",
            "short",
            [(quantile(0.5, gs.TOKENS_PER_SECOND, sel), "p50")],
        ),
        (
            "Pods ready (kube-state-metrics)",
            "short",
            [
                (
                    f'sum(kube_deployment_status_replicas_available{{{sel},deployment="{pod_spec.NAME}"}})',
                    "ready",
                )
            ],
        ),
    ]


def dashboard(settings: DeploymentSettings) -> dict[str, Any]:
    grid = []
    for i, (title, unit, targets) in enumerate(panels(settings)):
        grid.append(
            {
                "id": i + 1,
                "type": "timeseries",
                "title": title,
                "datasource": DATASOURCE,
                "gridPos": {"x": 12 * (i % 2), "y": 8 * (i // 2), "w": 12, "h": 8},
                "fieldConfig": {"defaults": {"unit": unit}, "overrides": []},
                "targets": [
                    {
                        "refId": chr(ord("A") + j),
                        "datasource": DATASOURCE,
                        "expr": expr,
                        "legendFormat": legend,
                    }
                    for j, (expr, legend) in enumerate(targets)
                ],
            }
        )
    return {
        "uid": f"shimmy-{settings.stack}",
        "title": f"shimmy ({settings.stack}, namespace {settings.workload.namespace})",
        "tags": ["shimmy", "llm"],
        "timezone": "utc",
        "refresh": "30s",
        "time": {"from": "now-6h", "to": "now"},
        "schemaVersion": 39,
        "templating": {
            "list": [
                {"name": "datasource", "type": "datasource", "query": "prometheus", "label": "Prometheus"}
            ]
        },
        "panels": grid,
    }


def config_map_data(settings: DeploymentSettings) -> dict[str, str]:
    return {FILE: json.dumps(dashboard(settings), indent=1, sort_keys=True)}
