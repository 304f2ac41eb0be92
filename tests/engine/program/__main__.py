"""Kubernetes objects from the stack's config, declared as real pulumi_kubernetes resources.

The engine tests hand this program workloads that other programs might declare (a Deployment
without a GPU, an Argo Rollout, a KServe InferenceService, ...) to see what the policy pack does
with them on the real engine and the real kubernetes plugin. The provider renders YAML into
`rendered/`, or, with config `kubeContext`, applies them to that cluster (tests/e2e).

Config `objects`: a JSON list of Kubernetes objects (apiVersion, kind, metadata, spec), camelCase.
"""

import json

import pulumi
import pulumi_kubernetes as k8s

TYPED = {
    ("apps/v1", "Deployment"): k8s.apps.v1.Deployment,
    ("apps/v1", "StatefulSet"): k8s.apps.v1.StatefulSet,
    ("v1", "Namespace"): k8s.core.v1.Namespace,
    ("v1", "Pod"): k8s.core.v1.Pod,
    ("v1", "ReplicationController"): k8s.core.v1.ReplicationController,
    ("v1", "PodTemplate"): k8s.core.v1.PodTemplate,
    ("v1", "Service"): k8s.core.v1.Service,
    ("batch/v1", "Job"): k8s.batch.v1.Job,
}

config = pulumi.Config()
context = config.get("kubeContext")
provider = (
    k8s.Provider("cluster", context=context)
    if context
    else k8s.Provider("render", render_yaml_to_directory="rendered")
)
options = pulumi.ResourceOptions(provider=provider)

for obj in json.loads(config.get("objects") or "[]"):
    name = obj["metadata"]["name"]
    typed = TYPED.get((obj["apiVersion"], obj["kind"]))
    fields = {key: value for key, value in obj.items() if key not in ("apiVersion", "kind")}
    if typed is not None:
        typed(name, **fields, opts=options)
    else:
        k8s.apiextensions.CustomResource(
            name, api_version=obj["apiVersion"], kind=obj["kind"], **fields, opts=options
        )
