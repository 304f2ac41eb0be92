"""shimmy-service (stack rule): the rule function on a list of resources."""

import pytest
from shimmy_policy.props import UNKNOWN
from shimmy_policy.rules.shimmy_service import RULE

from tests.policy.corpus import resource
from tests.policy.corpus.builders import deployment, gated_deployment, service
from tests.policy.corpus.kinds import KINDS, WITHOUT_SERVICE, knative_service
from tests.policy.evaluate import rule_findings


def findings(*manifests):
    resources = [resource(m) for m in manifests]
    resources = [type(r)(r.type, r.name, r.props, f"urn:{r.type}::{i}") for i, r in enumerate(resources)]
    return rule_findings(RULE, resources)


def test_a_service_that_selects_the_pods_and_targets_the_bound_port_or_its_name():
    assert findings(deployment(), service()) == []
    assert findings(deployment(), service("http")) == []


def test_no_service_or_one_that_misses_the_pods():
    (missing,) = findings(deployment())
    assert (
        missing.urn == "urn:kubernetes:apps/v1:Deployment::0"
        and "no Service selects its pods" in missing.message
    )
    (miss,) = findings(deployment(), service(selector={"app": "x"}))
    assert "no Service selects" in miss.message
    other_namespace = service()
    other_namespace["metadata"]["namespace"] = "default"
    assert len(findings(deployment(), other_namespace)) == 1


def test_a_service_with_the_wrong_target_port_is_named():
    (wrong,) = findings(deployment(), service(8080))
    assert wrong.urn == "urn:kubernetes:core/v1:Service::1"
    assert wrong.message.startswith('Service "shimmy": selects Deployment "shimmy" but no port targets 8081')


def test_a_selector_unknown_at_preview_is_deferred():
    svc = service()
    svc["spec"]["selector"] = UNKNOWN
    (pending,) = findings(deployment(), svc)
    assert pending.deferred and "a Service selector is unknown during preview" in pending.message


def test_a_shimmy_without_bind_is_left_to_bind_address():
    assert findings(deployment(args=["serve", "--gpu-backend", "cuda"])) == []


@pytest.mark.parametrize("kind", KINDS)
def test_which_kinds_need_a_service_and_which_bring_their_own(kind):
    alone = findings(KINDS[kind]())
    if kind in WITHOUT_SERVICE:
        assert alone == []
    else:
        (missing,) = alone
        assert "no Service selects its pods" in missing.message
        assert findings(KINDS[kind](), service()) == []


def test_a_knative_service_is_a_workload_not_a_service_that_selects_pods():
    knative = knative_service()
    knative["spec"] = UNKNOWN  # during preview: had it counted as a Service, its selector would defer this
    (missing,) = findings(deployment(), knative)
    assert not missing.deferred and "no Service selects" in missing.message


def test_a_stack_can_name_more_kinds_whose_operator_routes_to_them():
    config = {"kindsWithoutService": ["ray.io/RayCluster"]}
    assert rule_findings(RULE, [resource(KINDS["ray-cluster"]())], config) == []


def test_a_pod_spec_unknown_at_preview_is_deferred_not_passed():
    rollout = KINDS["argo-rollout"]()
    rollout["spec"]["template"] = UNKNOWN
    (pending,) = findings(rollout)
    assert pending.deferred and "the pod spec at spec.template is unknown during preview" in pending.message


def test_behind_a_front_container_the_service_targets_its_port():
    assert findings(gated_deployment(), service()) == []
    assert findings(gated_deployment(), service("http")) == []
    (wrong,) = findings(gated_deployment(), service(8082))
    assert "no port targets 8081, the port of the container in front of shimmy" in wrong.message
