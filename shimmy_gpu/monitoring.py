"""How Prometheus finds the gate's metrics: the `monitoring` keys, scrape annotations, the PodMonitor.

The metrics come from the request gate (shimmy 1.9.0's own /metrics is JSON and runs nvidia-smi on
every call), on a port of their own that the Service does not expose: a PodMonitor, not a
ServiceMonitor, selects the pods. The alerts are in alerts.py, the dashboard in dashboard.py.
"""

from __future__ import annotations

from typing import Any, get_args

from shimmy_gpu import pod_spec, values
from shimmy_gpu.config_reader import Reader
from shimmy_gpu.pod import gate_series
from shimmy_gpu.settings import DeploymentSettings, MonitoringMode, MonitoringSettings

MODES = get_args(MonitoringMode)
SCRAPE_INTERVAL = "15s"
# The objective is a bucket bound, so "slower than the objective" is read from one bucket, exactly.
OBJECTIVES = tuple(gate_series.number(b) for b in gate_series.LATENCY_BUCKETS)


def read(r: Reader) -> MonitoringSettings:
    return MonitoringSettings(
        mode=r.text("monitoring", choices=MODES),
        namespace=r.text("monitoringNamespace", values.DNS_LABEL),
        labels=r.text_map(
            "monitoringLabels", values.QUALIFIED_NAME, values.LABEL_VALUE, "a map of label to value"
        ),
        metrics_port=r.integer("metricsPort", 1024, 65535),
        latency_objective_seconds=float(r.text("latencyObjectiveSeconds", choices=OBJECTIVES) or 0),
    )


def selector(settings: DeploymentSettings) -> str:
    """The PromQL label matcher of this stack's series (the namespace is a DNS label: no quoting)."""
    return f'namespace="{settings.workload.namespace}"'


def pod_monitor_spec(settings: DeploymentSettings) -> dict[str, Any]:
    """camelCase: a custom resource's spec goes to the API server as written."""
    return {
        "selector": {"matchLabels": pod_spec.selector_labels(settings)},
        "namespaceSelector": {"matchNames": [settings.workload.namespace]},
        "podMetricsEndpoints": [
            {"port": pod_spec.METRICS_PORT_NAME, "path": gate_series.PATH, "interval": SCRAPE_INTERVAL}
        ],
    }


def object_labels(settings: DeploymentSettings) -> dict[str, str]:
    return {**pod_spec.app_labels(settings), **dict(settings.monitoring.labels)}
