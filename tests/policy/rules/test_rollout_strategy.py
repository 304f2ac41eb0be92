"""rollout-strategy: the rule function on its own."""

import pytest
from shimmy_policy.rules.rollout_strategy import RULE

from tests.policy.corpus import resource
from tests.policy.corpus.builders import deployment
from tests.policy.evaluate import rule_findings


@pytest.mark.parametrize(
    ("strategy", "ok"),
    [
        (None, False),  # the default RollingUpdate surges 25%
        ({"type": "RollingUpdate", "rollingUpdate": {"maxSurge": "0%", "maxUnavailable": 1}}, True),
        ({"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 1}}, False),
        ({"type": "Recreate"}, True),
    ],
)
def test_rollout_strategy(strategy, ok):
    props = deployment()
    props["spec"].pop("strategy")
    if strategy:
        props["spec"]["strategy"] = strategy
    assert (rule_findings(RULE, resource(props)) == []) == ok


def test_rollout_strategy_of_a_daemonset_with_surge():
    props = deployment()
    props["kind"] = "DaemonSet"
    props["spec"] = {**props["spec"], "updateStrategy": {"rollingUpdate": {"maxSurge": 1}}}
    (f,) = rule_findings(RULE, resource(props))
    assert f.message.startswith('DaemonSet "shimmy": updateStrategy maxSurge 1')
