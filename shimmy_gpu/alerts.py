"""The PrometheusRule's groups: what a platform team is paged or ticketed for (docs/operating.md).

Pure: the rule groups as Prometheus' rule file holds them, so `promtool check rules` and
`promtool test rules` (tests/monitoring) read exactly what the PrometheusRule declares.

The latency objective is burn-rate style (Google SRE workbook, ch. 5): the budget is the 5% of
answered generations allowed to take longer than `latencyObjectiveSeconds`; a page when an hour and
its last 5 minutes both spend it 14.4 times too fast (2% of a 30-day budget in an hour), a ticket
when 6 hours and their last 30 minutes spend it 6 times too fast.
"""

from __future__ import annotations

from typing import Any

from shimmy_gpu import monitoring, network, pod_spec
from shimmy_gpu.pod import gate_series as gs
from shimmy_gpu.settings import DeploymentSettings

GROUP = "shimmy-gate"
BUDGET = 0.05  # p95: 5% may be slower than the objective
BURN_WINDOWS = ("5m", "30m", "1h", "6h")
FAST_BURN, SLOW_BURN = 14.4, 6.0
QUEUE_SATURATION = 0.8  # share of the queue taken
REJECTED_RATIO = 0.05  # share of generations answered 503 by the gate
SLOW_RATIO = "shimmy_gate:latency_slow:ratio_rate"  # + window: recorded share slower than the objective


def generations(sel: str) -> str:
    routes = "|".join(gs.GENERATION_ROUTES)  # plain paths: nothing in them is special to a regex
    return f'{gs.REQUESTS}{{{sel},route=~"{routes}"}}'


def rejected_ratio(sel: str, window: str = "5m") -> str:
    rejected = "|".join(gs.REJECTED)
    return (
        f'sum by (namespace) (rate({gs.REQUESTS}{{{sel},outcome=~"{rejected}"}}[{window}]))'
        f" / sum by (namespace) (rate({generations(sel)}[{window}]))"
    )


def slow_ratio(settings: DeploymentSettings, window: str) -> str:
    sel = monitoring.selector(settings)
    le = gs.le_text(settings.monitoring.latency_objective_seconds)
    return (
        f'1 - sum by (namespace) (rate({gs.DURATION}_bucket{{{sel},le="{le}"}}[{window}]))'
        f" / sum by (namespace) (rate({gs.DURATION}_count{{{sel}}}[{window}]))"
    )


def rule_groups(settings: DeploymentSettings) -> list[dict[str, Any]]:
    sel = monitoring.selector(settings)
    objective = gs.number(settings.monitoring.latency_objective_seconds)
    ns = settings.workload.namespace

    def burn(long: str, short: str, factor: float) -> str:
        limit = round(factor * BUDGET, 6)
        return f"{SLOW_RATIO}{long}{{{sel}}} > {limit} and {SLOW_RATIO}{short}{{{sel}}} > {limit}"

    def alert(name, expr, duration, severity, summary) -> dict[str, Any]:
        return {
            "alert": name,
            "expr": expr,
            "for": duration,
            "labels": {"severity": severity, "namespace": ns},
            "annotations": {"summary": summary},
        }

    slow_share = f"more than {BUDGET:.0%} of answered generations took over {objective} s"
    alerts = [
        alert(
            "ShimmyQueueSaturated",
            f"sum by (namespace, pod) ({gs.QUEUED}{{{sel}}})"
            f" / sum by (namespace, pod) ({gs.QUEUE_CAPACITY}{{{sel}}}) >= {QUEUE_SATURATION}",
            "5m",
            "warning",
            f"{{{{ $labels.pod }}}}: the gate's queue is at least {QUEUE_SATURATION:.0%} full: "
            "add GPUs (replicas) or shorten answers",
        ),
        alert(
            "ShimmyRejectingRequests",
            f"{rejected_ratio(sel)} > {REJECTED_RATIO}",
            "10m",
            "critical",
            f"more than {REJECTED_RATIO:.0%} of generations get 503 from the gate (queue full or timed out)",
        ),
        alert(
            "ShimmyLatencyBudgetBurnFast",
            burn("1h", "5m", FAST_BURN),
            "2m",
            "critical",
            f"{slow_share}, burning the latency budget {FAST_BURN}x too fast",
        ),
        alert(
            "ShimmyLatencyBudgetBurnSlow",
            burn("6h", "30m", SLOW_BURN),
            "15m",
            "warning",
            f"{slow_share}, burning the latency budget {SLOW_BURN}x too fast",
        ),
        alert(
            "ShimmyNoPodReady",
            # kube-state-metrics' series; none at all counts as no pod ready
            f'(sum(kube_deployment_status_replicas_available{{{sel},deployment="{pod_spec.NAME}"}})'
            " or vector(0)) < 1",
            "5m",
            "critical",
            f"no shimmy pod of {ns} is ready: nothing answers",
        ),
        alert(
            "ShimmyGpuVerificationFailed",
            f'kube_job_status_failed{{{sel},job_name=~"{network.VERIFICATION_NAME}-.*"}} > 0',
            "0m",
            "critical",
            "the GPU verification Job found no CUDA proof in shimmy's log: it may run on the CPU",
        ),
    ]
    records = [{"record": f"{SLOW_RATIO}{w}", "expr": slow_ratio(settings, w)} for w in BURN_WINDOWS]
    return [{"name": f"{GROUP}.rules", "rules": records}, {"name": f"{GROUP}.alerts", "rules": alerts}]
