"""The registry: every rule once, levels and config from a policy config file, evaluation."""

from shimmy_policy.registry import BY_NAME, RULES, effective_level, evaluate, rule_config
from shimmy_policy.rule_types import StackRule

from tests.policy.corpus.builders import DEPLOYMENT, deployment


def test_rule_names_are_unique_and_only_shimmy_service_sees_the_stack():
    assert len(BY_NAME) == len(RULES)
    assert [r.name for r in RULES if isinstance(r, StackRule)] == ["shimmy-service"]


def test_levels_come_from_the_rule_its_entry_or_all():
    rule = BY_NAME["probes"]
    assert effective_level(rule, None) == "advisory"
    assert effective_level(rule, {"probes": "disabled"}) == "disabled"
    assert effective_level(rule, {"probes": {"enforcementLevel": "mandatory"}}) == "mandatory"
    assert effective_level(rule, {"all": "remediate"}) == "remediate"


def test_rule_config_overlays_the_defaults_and_drops_the_level():
    config = rule_config(BY_NAME["image-digest"], {"image-digest": {"enforcementLevel": "advisory"}})
    assert config["requireDigest"] is True and "enforcementLevel" not in config


def test_rules_can_be_disabled_per_stack():
    props = deployment(readinessProbe=None)
    assert [f.rule for f in evaluate(DEPLOYMENT, "r", props)] == ["probes"]
    assert evaluate(DEPLOYMENT, "r", props, {"probes": "disabled"}) == []
