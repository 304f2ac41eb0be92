"""`Monitoring`: the Prometheus operator's objects for one stack, and its Grafana dashboard.

Only wiring: the PodMonitor's spec, the rules and the dashboard are rendered by pure functions
(shimmy_gpu/monitoring.py, alerts.py, dashboard.py). Needs the operator's CRDs in the cluster.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_kubernetes as k8s

from shimmy_gpu import alerts, dashboard, monitoring
from shimmy_gpu.settings import DeploymentSettings

API_VERSION = "monitoring.coreos.com/v1"


@dataclass(frozen=True)
class MonitoringArgs:
    deployment: DeploymentSettings  # its pods, namespace and `monitoring` keys
    namespace: pulumi.Input[str]  # the stack's, where the pods run


class Monitoring(pulumi.ComponentResource):
    def __init__(self, name: str, args: MonitoringArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("shimmy-gpu:index:Monitoring", name, None, opts)
        settings = args.deployment
        child = pulumi.ResourceOptions(parent=self)
        labels = monitoring.object_labels(settings)
        meta = {"namespace": args.namespace, "labels": labels}
        k8s.apiextensions.CustomResource(
            f"{name}-pods",
            api_version=API_VERSION,
            kind="PodMonitor",
            metadata=meta,
            spec=monitoring.pod_monitor_spec(settings),
            opts=child,
        )
        k8s.apiextensions.CustomResource(
            f"{name}-alerts",
            api_version=API_VERSION,
            kind="PrometheusRule",
            metadata=meta,
            spec={"groups": alerts.rule_groups(settings)},
            opts=child,
        )
        k8s.core.v1.ConfigMap(
            f"{name}-dashboard",
            metadata={
                "namespace": settings.monitoring.namespace,
                "labels": {**labels, **dashboard.SIDECAR_LABEL},
            },
            data=dashboard.config_map_data(settings),
            opts=child,
        )
        self.register_outputs({})
