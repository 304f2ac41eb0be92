"""`GpuInferenceService`: shimmy's Deployment on a GPU behind its request gate, its Service, the
model volume and the NetworkPolicy that decides who may call it."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_kubernetes as k8s

from shimmy_gpu import network, pod, pod_spec, rollout
from shimmy_gpu.settings import DeploymentSettings, NetworkSettings, ServiceSettings


@dataclass(frozen=True)
class GpuInferenceServiceArgs:
    deployment: DeploymentSettings
    service: ServiceSettings
    network: NetworkSettings
    verification_job: bool  # the GPU verification Job's pods call shimmy too
    image: pulumi.Input[str]  # by digest
    await_rollout: bool = True  # False when rendering YAML: a patch of the Deployment is no manifest


class GpuInferenceService(pulumi.ComponentResource):
    namespace: pulumi.Output[str]
    service_name: pulumi.Output[str]
    url: pulumi.Output[str]

    def __init__(self, name: str, args: GpuInferenceServiceArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("shimmy-gpu:index:GpuInferenceService", name, None, opts)
        settings = args.deployment
        child = pulumi.ResourceOptions(parent=self)
        labels = pod_spec.app_labels(settings)

        # An existing namespace (createNamespace false) is used by name: the stack neither declares
        # nor labels it, so a destroy leaves it, and its Pod Security level is its owner's.
        ns: pulumi.Input[str] = settings.workload.namespace
        if settings.workload.create_namespace:
            ns = k8s.core.v1.Namespace(
                name,
                metadata={"name": settings.workload.namespace, "labels": {**labels, **pod_spec.POD_SECURITY}},
                opts=child,
            ).metadata.name

        claim_name: pulumi.Input[str] = settings.model.existing_claim
        if settings.model.source != "pvc":
            storage_class = settings.model.storage_class
            claim = k8s.core.v1.PersistentVolumeClaim(
                f"{name}-models",
                metadata={
                    "namespace": ns,
                    "labels": labels,
                    # WaitForFirstConsumer classes bind only once the pod is scheduled: waiting for
                    # Bound here would deadlock with the Deployment that consumes the claim.
                    "annotations": {"pulumi.com/skipAwait": "true"},
                },
                spec={
                    "access_modes": ["ReadWriteOnce"],
                    "resources": {"requests": {"storage": settings.model.storage_size}},
                    **({"storage_class_name": storage_class} if storage_class else {}),
                },
                opts=child,
            )
            claim_name = claim.metadata.name

        gate_config: pulumi.Input[str] | None = None
        if settings.gate.enabled:
            gate_config = k8s.core.v1.ConfigMap(
                f"{name}-gate",
                metadata={"namespace": ns, "labels": labels},
                data=pod.files(pod.GATE),
                opts=child,
            ).metadata.name

        selector = pod_spec.selector_labels(settings)
        annotations = pod_spec.pod_annotations(settings)  # only when set: the API server drops an empty map
        # GPU images are large and a fresh node's first pull takes a while; the model load adds more.
        # Past this, `pulumi up` fails with the rollout's state instead of waiting forever.
        minutes = f"{settings.workload.rollout_timeout_minutes}m"
        template = {
            "metadata": {"labels": labels, **({"annotations": annotations} if annotations else {})},
            "spec": pod_spec.spec(settings, args.image, claim_name, gate_config),
        }
        timeouts = pulumi.CustomTimeouts(create=minutes, update=minutes)
        deployment = k8s.apps.v1.Deployment(
            name,
            metadata={"name": pod_spec.NAME, "namespace": ns, "labels": labels},
            spec={
                "replicas": settings.workload.replicas,
                "selector": {"match_labels": selector},
                "strategy": rollout.deployment_strategy(),
                "template": template,
            },
            opts=pulumi.ResourceOptions(parent=self, custom_timeouts=timeouts),
        )
        if args.await_rollout:  # the rollout the Deployment's own await may miss (shimmy_gpu/rollout.py)
            k8s.apps.v1.DeploymentPatch(
                f"{name}-rollout",
                metadata={
                    "name": deployment.metadata.name,
                    "namespace": ns,
                    "annotations": {
                        "pulumi.com/waitFor": rollout.finished(settings.workload.replicas),
                        rollout.TEMPLATE_ANNOTATION: pulumi.Output.from_input(template).apply(
                            rollout.template_digest
                        ),
                    },
                },
                opts=pulumi.ResourceOptions(parent=self, depends_on=[deployment], custom_timeouts=timeouts),
            )
        # A fixed name gives clients a stable DNS name.
        service = k8s.core.v1.Service(
            name,
            metadata={"name": pod_spec.NAME, "namespace": ns, "labels": labels},
            spec={
                "type": args.service.type,
                "selector": selector,
                "ports": [
                    {
                        "name": pod_spec.PORT_NAME,
                        "port": args.service.port,
                        "target_port": settings.workload.port,
                        "protocol": "TCP",
                    }
                ],
            },
            # The Service's await waits for ready endpoints (10 min by default): bounded as the
            # Deployment is, or a pod that never becomes Ready holds `up` for 10 minutes.
            opts=pulumi.ResourceOptions.merge(
                child,
                pulumi.ResourceOptions(custom_timeouts=pulumi.CustomTimeouts(create=minutes, update=minutes)),
            ),
        )
        if args.network.policy:
            k8s.networking.v1.NetworkPolicy(
                name,
                metadata={"name": pod_spec.NAME, "namespace": ns, "labels": labels},
                spec=network.network_policy_spec(settings, args.network, args.verification_job),
                opts=child,
            )

        self.namespace = pulumi.Output.from_input(ns)
        self.service_name = service.metadata.name
        self.url = pulumi.Output.concat(
            "http://", service.metadata.name, ".", ns, ".svc.cluster.local:", str(args.service.port)
        )
        self.register_outputs(
            {
                "namespace": self.namespace,
                "service_name": self.service_name,
                "url": self.url,
            }
        )
