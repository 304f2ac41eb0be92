"""driver-capabilities: the rule function on its own."""

import pytest
from shimmy_policy.props import UNKNOWN
from shimmy_policy.rules.driver_capabilities import RULE

from tests.policy.corpus import resource
from tests.policy.corpus.builders import deployment
from tests.policy.evaluate import rule_findings


def findings(env):
    return rule_findings(RULE, resource(deployment(env=env)))


@pytest.mark.parametrize(
    ("value", "ok"), [("all", True), ("compute,utility", True), ("utility,graphics", False)]
)
def test_literal_values(value, ok):
    got = findings([{"name": "NVIDIA_DRIVER_CAPABILITIES", "value": value}])
    assert (got == []) == ok
    if not ok:
        assert "lacks compute" in got[0].message


def test_value_from_is_refused_and_unknown_is_deferred():
    (from_map,) = findings([{"name": "NVIDIA_DRIVER_CAPABILITIES", "valueFrom": {"configMapKeyRef": {}}}])
    assert "comes from valueFrom" in from_map.message and not from_map.deferred
    (pending,) = findings([{"name": "NVIDIA_DRIVER_CAPABILITIES", "value": UNKNOWN}])
    assert pending.deferred


def test_unset_passes():
    assert findings([]) == []
