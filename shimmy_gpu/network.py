"""Who may reach shimmy: the NetworkPolicy on its pods, from the stack's network settings.

shimmy's API has no authentication, so the policy admits, on shimmy's port only: pods of the
stack's own namespace (those with `clientPodLabels`, when set), pods of `clientNamespaces`, the
GPU verification Job, and `clientCidrs` for a NodePort or LoadBalancer Service; on the gate's
metrics port only pods of `monitoringNamespace` (when `monitoring` is on). Everything else is
dropped by any CNI that enforces NetworkPolicy.
"""

from __future__ import annotations

from typing import Any

from shimmy_gpu import pod_spec
from shimmy_gpu.settings import DeploymentSettings, NetworkSettings

NAMESPACE_NAME_LABEL = "kubernetes.io/metadata.name"  # set by the API server on every namespace
VERIFICATION_COMPONENT = "gpu-verification"
VERIFICATION_NAME = "verify-gpu"  # the Job's name prefix (__main__.py), which the alerts match


def verification_labels(settings: DeploymentSettings) -> dict[str, str]:
    """The labels of the verification Job's pods (components/verification.py sets them)."""
    return {**pod_spec.app_labels(settings), "app.kubernetes.io/component": VERIFICATION_COMPONENT}


def network_policy_spec(
    settings: DeploymentSettings, network: NetworkSettings, verification_job: bool
) -> dict[str, Any]:
    """verification_job: the GPU verification Job runs in the namespace and must reach shimmy."""
    clients = dict(network.client_pod_labels)
    peers: list[dict[str, Any]] = [{"pod_selector": {"match_labels": clients}}]  # {}: every pod here
    if network.client_namespaces:
        peers.append(
            {
                "namespace_selector": {
                    "match_expressions": [
                        {
                            "key": NAMESPACE_NAME_LABEL,
                            "operator": "In",
                            "values": list(network.client_namespaces),
                        }
                    ]
                },
                "pod_selector": {"match_labels": clients},
            }
        )
    if clients and verification_job:
        labels = verification_labels(settings)
        job = {key: labels[key] for key in ("app.kubernetes.io/component", "app.kubernetes.io/instance")}
        peers.append({"pod_selector": {"match_labels": job}})
    peers += [{"ip_block": {"cidr": cidr}} for cidr in network.client_cidrs]
    ingress = [{"from": peers, "ports": [{"protocol": "TCP", "port": settings.workload.port}]}]
    if settings.monitoring.mode != "none":
        ingress.append(
            {
                "from": [
                    {
                        "namespace_selector": {
                            "match_labels": {NAMESPACE_NAME_LABEL: settings.monitoring.namespace}
                        }
                    }
                ],
                "ports": [{"protocol": "TCP", "port": settings.monitoring.metrics_port}],
            }
        )
    return {
        "pod_selector": {"match_labels": pod_spec.selector_labels(settings)},
        "policy_types": ["Ingress"],
        "ingress": ingress,
    }
