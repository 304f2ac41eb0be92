"""The registry: every rule once; one rule sees the whole stack."""

from shimmy_policy.registry import RULES
from shimmy_policy.rule_types import StackRule

from tests.policy.evaluate import BY_NAME


def test_rule_names_are_unique_and_only_shimmy_service_sees_the_stack():
    assert len(BY_NAME) == len(RULES)
    assert [r.name for r in RULES if isinstance(r, StackRule)] == ["shimmy-service"]
