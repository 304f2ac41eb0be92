"""security-context: the rule function on its own."""

from shimmy_policy.rules.security_context import RULE

from tests.policy.corpus import resource
from tests.policy.corpus.builders import deployment, pod_spec
from tests.policy.evaluate import rule_findings


def test_security_context_must_be_restricted_at_pod_or_container_level():
    (f,) = rule_findings(RULE, resource(deployment(securityContext={})))
    assert "runAsNonRoot is not true" in f.message and "capabilities.drop lacks ALL" in f.message
    props = deployment(securityContext={"allowPrivilegeEscalation": False, "capabilities": {"drop": ["ALL"]}})
    pod_spec(props)["securityContext"] = {"runAsNonRoot": True, "seccompProfile": {"type": "RuntimeDefault"}}
    assert rule_findings(RULE, resource(props)) == []


def test_privileged_is_refused():
    props = deployment()
    props["spec"]["template"]["spec"]["containers"][0]["securityContext"]["privileged"] = True
    (f,) = rule_findings(RULE, resource(props))
    assert "privileged is true" in f.message
