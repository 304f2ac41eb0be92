"""shimmy on an NVIDIA GPU: read the stack config, build the CUDA image, deploy it, export."""

import pulumi
import pulumi_kubernetes as k8s

from components.image import ShimmyImage, ShimmyImageArgs, write_dockerfile
from components.monitoring import Monitoring, MonitoringArgs
from components.service import GpuInferenceService, GpuInferenceServiceArgs
from components.verification import GpuVerification, GpuVerificationArgs
from shimmy_gpu import exports, network
from shimmy_gpu.stack_config import load_settings

settings = load_settings()  # fails here, before any resource, on a bad value

image = ShimmyImage(
    "shimmy",
    ShimmyImageArgs(
        build=settings.build,
        image=settings.image,
        dockerfile=write_dockerfile(settings.build, settings.stack),
    ),
)

cluster = k8s.Provider(
    "cluster",
    context=settings.kube_context or None,
    # Server-side apply: a preview against a reachable cluster is the API server's dry run
    # (docs/ci-and-previews.md), whatever PULUMI_K8S_ENABLE_SERVER_SIDE_APPLY says.
    enable_server_side_apply=True,
    render_yaml_to_directory=settings.render_manifests_to or None,
)
service = GpuInferenceService(
    "shimmy",
    GpuInferenceServiceArgs(
        deployment=settings.deployment,
        service=settings.service,
        network=settings.network,
        verification_job=settings.verification.enabled,
        image=image.ref,
        await_rollout=not settings.render_manifests_to,
    ),
    pulumi.ResourceOptions(providers=[cluster]),
)

if settings.verification.enabled:
    GpuVerification(
        network.VERIFICATION_NAME,
        GpuVerificationArgs(
            deployment=settings.deployment,
            verification=settings.verification,
            namespace=service.namespace,
            service_url=service.url,
            image=image.ref,
        ),
        pulumi.ResourceOptions(providers=[cluster], depends_on=[service]),
    )

if settings.monitoring.mode == "prometheus-operator":
    Monitoring(
        "shimmy",
        MonitoringArgs(deployment=settings.deployment, namespace=service.namespace),
        pulumi.ResourceOptions(providers=[cluster]),
    )

pulumi.export("image", image.ref)
pulumi.export("namespace", service.namespace)
pulumi.export("serviceName", service.service_name)
pulumi.export("url", service.url)
pulumi.export("commandLine", exports.command_line(settings))
pulumi.export("smokeTest", exports.smoke_test(settings))
