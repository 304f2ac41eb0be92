"""`GpuVerification`: an opt-in Job that makes `pulumi up` fail unless shimmy proves it uses the GPU.

The Job runs shimmy_gpu/pod/gpu_proof.py against the Service, then reads the shimmy pods' logs for
llama.cpp's CUDA proof lines. Its service account can only read pods and their logs in this
namespace: the permissions it needs are the ones it creates, nothing cluster-wide.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_kubernetes as k8s

from shimmy_gpu import network, pod, pod_spec
from shimmy_gpu.settings import DeploymentSettings, VerificationSettings

VERIFICATION_TTL_SECONDS = 24 * 3600
MAX_TOKENS = 64


@dataclass(frozen=True)
class GpuVerificationArgs:
    deployment: DeploymentSettings  # the shimmy pods it asks and reads
    verification: VerificationSettings
    namespace: pulumi.Input[str]
    service_url: pulumi.Input[str]
    image: pulumi.Input[str]  # the digest shimmy runs: a new image re-runs the check


def verifier_env(settings: DeploymentSettings, verification: VerificationSettings) -> list[dict[str, str]]:
    return [
        {"name": "MODEL", "value": settings.model.name},
        {"name": "MAX_TOKENS", "value": str(MAX_TOKENS)},
        {"name": "TIMEOUT", "value": str(settings.workload.startup_timeout_seconds)},
        {
            "name": "MIN_DECODE_TOKENS_PER_SECOND",
            "value": str(verification.min_decode_tokens_per_second),
        },
        {
            "name": "POD_SELECTOR",
            "value": ",".join(f"{k}={v}" for k, v in pod_spec.selector_labels(settings).items()),
        },
        {"name": "CONTAINER", "value": pod_spec.CONTAINER},
        {"name": "PYTHONDONTWRITEBYTECODE", "value": "1"},
    ]


class GpuVerification(pulumi.ComponentResource):
    def __init__(self, name: str, args: GpuVerificationArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("shimmy-gpu:index:GpuVerification", name, None, opts)
        settings = args.deployment
        child = pulumi.ResourceOptions(parent=self)
        labels = network.verification_labels(settings)
        meta = {"namespace": args.namespace, "labels": labels}

        account = k8s.core.v1.ServiceAccount(
            name, metadata=meta, automount_service_account_token=False, opts=child
        )
        role = k8s.rbac.v1.Role(
            name,
            metadata=meta,
            # What gpu_proof.pod_logs does: list the shimmy pods, read each one's log. Nothing else.
            rules=[
                {"api_groups": [""], "resources": ["pods"], "verbs": ["list"]},
                {"api_groups": [""], "resources": ["pods/log"], "verbs": ["get"]},
            ],
            opts=child,
        )
        binding = k8s.rbac.v1.RoleBinding(
            name,
            metadata=meta,
            role_ref={"api_group": "rbac.authorization.k8s.io", "kind": "Role", "name": role.metadata.name},
            subjects=[{"kind": "ServiceAccount", "name": account.metadata.name, "namespace": args.namespace}],
            opts=child,
        )
        proof = k8s.core.v1.ConfigMap(name, metadata=meta, data=pod.files(pod.GPU_PROOF), opts=child)
        container = {
            "name": "verify",
            "image": args.verification.image,
            "command": ["python", f"/proof/{pod.GPU_PROOF[0]}"],
            "env": [
                *verifier_env(settings, args.verification),
                {"name": "SHIMMY_URL", "value": args.service_url},
                {"name": "NAMESPACE", "value": args.namespace},
                {"name": "SHIMMY_IMAGE", "value": args.image},
            ],
            "volume_mounts": [{"name": "proof", "mount_path": "/proof", "read_only": True}],
            "resources": {
                "requests": {"cpu": "50m", "memory": "64Mi"},
                "limits": {"cpu": "500m", "memory": "128Mi"},
            },
            "security_context": pod_spec.container_security_context(),
        }
        k8s.batch.v1.Job(
            name,
            metadata={
                **meta,
                # A failed check is replaced (and so re-run) by the next `pulumi up`.
                "annotations": {"pulumi.com/replaceUnready": "true"},
            },
            spec={
                "backoff_limit": 0,
                # A finished check is cleaned up after a day; the next `pulumi up` after a refresh
                # runs it again.
                "ttl_seconds_after_finished": VERIFICATION_TTL_SECONDS,
                "active_deadline_seconds": settings.workload.startup_timeout_seconds + 300,
                "template": {
                    "metadata": {"labels": labels},
                    "spec": {
                        "restart_policy": "Never",
                        "service_account_name": account.metadata.name,
                        "automount_service_account_token": True,
                        "security_context": pod_spec.pod_security_context(),
                        "containers": [container],
                        "volumes": [{"name": "proof", "config_map": {"name": proof.metadata.name}}],
                    },
                },
            },
            opts=pulumi.ResourceOptions(
                parent=self,
                depends_on=[binding],
                custom_timeouts=pulumi.CustomTimeouts(create="20m", update="20m"),
            ),
        )
        self.register_outputs({})
