"""A program with no resource plugin: what the real engine, language host, backend and secrets
provider do, measured where the kubernetes and docker plugins cannot be built (tools/README.md).

Components need no plugin. `workload` is registered under the Deployment's type token with the
Deployment's wire inputs, so the policy pack sees what it sees for the real Deployment.
"""

import json

import pulumi

config = pulumi.Config()


class Settings(pulumi.ComponentResource):
    def __init__(self, name: str, props: dict, opts: pulumi.ResourceOptions | None = None):
        super().__init__("shimmy-engine:index:Settings", name, props, opts)


class Workload(pulumi.ComponentResource):
    def __init__(self, name: str, props: dict):
        super().__init__("kubernetes:apps/v1:Deployment", name, props)


settings = Settings(
    "settings",
    {
        "replicas": config.get_int("replicas") or 1,
        "cudaArchitectures": config.get_object("cudaArchitectures") or ["75"],
        "registryPassword": config.get_secret("registryPassword"),
    },
)

deployment = config.get("deployment")
if deployment:
    Workload("shimmy", json.loads(deployment))

pulumi.export("replicas", config.get_int("replicas") or 1)
pulumi.export("registryPassword", config.get_secret("registryPassword"))
