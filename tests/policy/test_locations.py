"""Type tokens, kind patterns and paths: how a location names a kind and a place in its properties."""

import pytest
from shimmy_policy.locations import ApiKind, api_kind, dotted, steps


@pytest.mark.parametrize(
    ("token", "kind"),
    [
        ("kubernetes:apps/v1:Deployment", ApiKind("apps", "v1", "Deployment")),
        ("kubernetes:core/v1:ReplicationController", ApiKind("core", "v1", "ReplicationController")),
        ("kubernetes:argoproj.io/v1alpha1:Rollout", ApiKind("argoproj.io", "v1alpha1", "Rollout")),
        ("kubernetes:serving.knative.dev/v1:Service", ApiKind("serving.knative.dev", "v1", "Service")),
        ("kubernetes:yaml:ConfigFile", None),
        ("kubernetes:yaml/v2:ConfigGroup", None),
        ("kubernetes:helm.sh/v4:Chart", None),
        ("kubernetes:helm.sh/v3:Release", None),
        ("kubernetes:kustomize/v2:Directory", None),
        ("docker:index/image:Image", None),
        ("pulumi:providers:kubernetes", None),
    ],
)
def test_type_tokens(token, kind):
    assert api_kind(token) == kind


def test_kind_patterns_name_a_kind_its_group_or_its_api_version():
    knative = ApiKind("serving.knative.dev", "v1", "Service")
    core = ApiKind("core", "v1", "Service")
    assert knative.matches("Service") and core.matches("Service")
    assert knative.matches("serving.knative.dev/Service") and not core.matches("serving.knative.dev/Service")
    assert knative.matches("serving.knative.dev/v1/Service") and core.matches("v1/Service")
    assert not knative.matches("v1/Service") and not knative.matches("Rollout")


def test_paths_read_and_print():
    assert steps("spec.workers.*.template.0") == ("spec", "workers", "*", "template", 0)
    assert dotted(("spec", "workerGroupSpecs", 0, "template")) == "spec.workerGroupSpecs[0].template"
