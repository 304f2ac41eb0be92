"""Rules run as the engine runs them: levels and config from a policy config file, evaluation."""

from tests.policy.corpus.builders import DEPLOYMENT, deployment
from tests.policy.evaluate import BY_NAME, effective_level, evaluate, rule_config


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
