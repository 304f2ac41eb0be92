"""gpu-resource: the rule function on its own."""

import pytest
from shimmy_policy.props import UNKNOWN
from shimmy_policy.rule_types import Resource
from shimmy_policy.rules.gpu_resource import RULE

from tests.policy.corpus import resource
from tests.policy.corpus.builders import DEPLOYMENT, deployment
from tests.policy.evaluate import rule_findings


def messages(props, config=None):
    return [f.message for f in rule_findings(RULE, resource(props), config)]


@pytest.mark.parametrize(
    ("resources", "problem"),
    [
        ({"limits": {"cpu": "4"}}, "resources.limits has no nvidia.com/gpu"),
        ({"requests": {"nvidia.com/gpu": "1"}}, "nvidia.com/gpu is only in resources.requests"),
        ({"limits": {"nvidia.com/gpu": "0"}}, "not a whole number >= 1"),
        ({"limits": {"nvidia.com/gpu": "500m"}}, "not a whole number >= 1"),
        ({"limits": {"nvidia.com/gpu": 1}, "requests": {"nvidia.com/gpu": 2}}, "for GPUs they must be equal"),
    ],
)
def test_each_problem_names_the_container_and_the_fix(resources, problem):
    (message,) = messages(deployment(resources=resources))
    assert message.startswith('Deployment "shimmy" container "shimmy": ') and problem in message
    assert "Fix: set resources." in message


def test_mig_resource_names_are_configurable():
    mig = deployment(resources={"limits": {"nvidia.com/mig-1g.10gb": 1}})
    assert len(messages(mig)) == 1
    assert messages(mig, {"resourceNames": ["nvidia.com/mig-1g.10gb"]}) == []


def test_gpu_counts_as_the_engine_sends_numbers():
    assert messages(deployment(resources={"limits": {"nvidia.com/gpu": 1.0}})) == []
    assert messages(deployment(resources={"limits": {"nvidia.com/gpu": "1"}})) == []


def test_resources_unknown_at_preview_are_deferred():
    (f,) = rule_findings(RULE, resource(deployment(resources=UNKNOWN)))
    assert f.deferred and f.rule == "gpu-resource" and f.container == "shimmy"


def test_remediation_sets_the_limit_from_a_whole_request():
    props = deployment(resources={"requests": {"nvidia.com/gpu": "2"}})
    fixed = RULE.remediate(Resource(DEPLOYMENT, "shimmy", props), RULE.settings(None))
    resources = fixed["spec"]["template"]["spec"]["containers"][0]["resources"]
    assert resources == {"requests": {"nvidia.com/gpu": "2"}, "limits": {"nvidia.com/gpu": "2"}}
    assert RULE.remediate(Resource(DEPLOYMENT, "shimmy", deployment()), RULE.settings(None)) is None
