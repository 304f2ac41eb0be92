"""shimmy-service (stack rule): the rule function on a list of resources."""

from shimmy_policy.props import UNKNOWN
from shimmy_policy.rules.shimmy_service import RULE

from tests.policy.corpus import resource
from tests.policy.corpus.builders import deployment, service


def findings(*manifests):
    resources = [resource(m) for m in manifests]
    resources = [type(r)(r.type, r.name, r.props, f"urn:{r.type}::{i}") for i, r in enumerate(resources)]
    return RULE.evaluate(resources)


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
