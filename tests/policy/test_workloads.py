"""The workload view of any kind and the rules built on it: what they say, where, what they cannot read."""

import pytest
from shimmy_policy.props import UNKNOWN
from shimmy_policy.recognition import Recognition
from shimmy_policy.rule_types import Resource
from shimmy_policy.rules import gpu_backend_flag, gpu_resource, gpu_toleration
from shimmy_policy.workloads import workload

from tests.policy.corpus import resource
from tests.policy.corpus.builders import deployment
from tests.policy.corpus.kinds import (
    KINDS,
    WITHOUT_FLAG,
    WITHOUT_GPU,
    argo_rollout,
    knative_service,
    kserve_model,
    ray_cluster,
)
from tests.policy.evaluate import evaluate, rule_findings


def test_messages_name_the_kind_with_its_group_and_where_the_container_is():
    (f,) = rule_findings(gpu_resource.RULE, resource(knative_service(**WITHOUT_GPU)))
    assert f.message.startswith(
        'Service.serving.knative.dev "llm" container "shimmy" (spec.template.spec.containers[0]): '
        "resources.limits has no nvidia.com/gpu"
    )
    (f,) = rule_findings(gpu_backend_flag.RULE, resource(kserve_model(**WITHOUT_FLAG)))
    assert f.message.startswith(
        'InferenceService.serving.kserve.io "llm" container "kserve-container" (spec.predictor.model)'
    )
    assert f.container == "kserve-container"
    (f,) = rule_findings(gpu_resource.RULE, resource(deployment(resources={})))
    assert f.message.startswith('Deployment "shimmy" container "shimmy": ')  # built-in kinds as before


def test_a_pod_rule_names_the_pod_of_a_many_pod_kind():
    cluster = ray_cluster()
    cluster["spec"]["workerGroupSpecs"][0]["template"]["spec"]["nodeSelector"] = {
        "nvidia.com/gpu.present": "true"
    }
    (f,) = rule_findings(gpu_toleration.RULE, resource(cluster))
    assert f.message.startswith(
        'RayCluster.ray.io "llm" (spec.workerGroupSpecs[0].template.spec): the pod targets'
    )


def test_a_pod_spec_unknown_at_preview_is_reported_by_every_workload_rule_never_passed():
    rollout = argo_rollout()
    rollout["spec"]["template"] = UNKNOWN
    found = evaluate("kubernetes:argoproj.io/v1alpha1:Rollout", "llm", rollout)
    assert {f.rule for f in found} == {
        "gpu-resource", "gpu-backend-flag", "bind-address", "model-flag", "image-digest",
        "driver-capabilities", "probes", "security-context", "rollout-strategy", "gpu-toleration",
    }  # fmt: skip
    for f in found:
        assert f.deferred
        assert f.message == (
            'Rollout.argoproj.io "llm": the pod spec at spec.template is unknown during preview; '
            "checked at update"
        )


def test_exclude_kinds_and_extra_paths_come_from_the_rule_config():
    assert (
        rule_findings(
            gpu_resource.RULE, resource(ray_cluster(**WITHOUT_GPU)), {"excludeKinds": ["ray.io/RayCluster"]}
        )
        == []
    )
    hidden = {"apiVersion": "example.com/v1", "kind": "Runner", "metadata": {"name": "llm"}}
    hidden["spec"] = {
        "server": {"name": "shimmy", "resources": {}}
    }  # one container, no image: the search misses it
    assert rule_findings(gpu_resource.RULE, resource(hidden)) == []
    extra = {"extraPodSpecPaths": [{"kind": "Runner", "containerPath": "spec.server"}]}
    (f,) = rule_findings(gpu_resource.RULE, resource(hidden), extra)
    assert f.message.startswith(
        'Runner.example.com "llm" container "shimmy" (spec.server): resources.limits has no'
    )


def test_a_component_resource_is_not_a_workload_its_children_are():
    group = {"objs": [deployment(resources={})], "resourcePrefix": "llm"}
    assert workload(Resource("kubernetes:yaml/v2:ConfigGroup", "llm", group), Recognition()) is None
    assert (
        evaluate(
            "kubernetes:helm.sh/v4:Chart",
            "llm",
            {"values": {"containers": [{"name": "shimmy", "image": "shimmy"}]}},
        )
        == []
    )


def remediated(rule, props):
    r = resource(props)
    fixed = rule.RULE.remediate(Resource(r.type, r.name, props), rule.RULE.settings(None))
    return fixed, evaluate(r.type, r.name, fixed)


def test_remediation_rewrites_the_container_where_the_crd_keeps_it():
    fixed, after = remediated(gpu_resource, kserve_model(**WITHOUT_GPU))
    assert fixed["spec"]["predictor"]["model"]["resources"]["limits"]["nvidia.com/gpu"] == "1" and after == []
    fixed, after = remediated(gpu_backend_flag, ray_cluster(**WITHOUT_FLAG))
    worker = fixed["spec"]["workerGroupSpecs"][0]["template"]["spec"]["containers"][0]
    assert worker["args"][-2:] == ["--gpu-backend", "cuda"] and after == []
    assert fixed["spec"]["headGroupSpec"] == ray_cluster()["spec"]["headGroupSpec"]


UNKNOWN_AT = {
    "replicationcontroller": ("spec", "template"),
    "podtemplate": ("template",),
    "argo-rollout": ("spec", "template"),
    "kserve-containers": ("spec", "predictor"),
    "kserve-model": ("spec", "predictor", "model"),
    "kserve-servingruntime": ("spec",),
    "knative-service": ("spec", "template"),
    "kruise-cloneset": ("spec", "template"),
    "leaderworkerset": ("spec", "leaderWorkerTemplate"),
}


@pytest.mark.parametrize("kind", KINDS)
def test_a_known_kind_with_its_pod_spec_unknown_is_deferred_the_searched_ones_cannot_be(kind):
    props = KINDS[kind]()
    path = UNKNOWN_AT.get(kind, ("spec",))
    parent = props
    for step in path[:-1]:
        parent = parent[step]
    parent[path[-1]] = UNKNOWN
    found = rule_findings(gpu_resource.RULE, resource(props))
    if kind in UNKNOWN_AT:
        (f,) = found
        assert f.deferred and f"the pod spec at {'.'.join(path)} is unknown during preview" in f.message
    else:  # found by the search, which cannot tell a workload from any other object
        assert found == []
