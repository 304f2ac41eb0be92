"""probes: the rule function on its own."""

from shimmy_policy.rules.probes import RULE

from tests.policy.corpus import resource
from tests.policy.corpus.builders import deployment
from tests.policy.evaluate import rule_findings


def messages(**container):
    return [f.message for f in rule_findings(RULE, resource(deployment(**container)))]


def test_probes_missing_or_on_metrics():
    (missing,) = messages(readinessProbe=None)
    assert "no readinessProbe" in missing
    (metrics,) = messages(livenessProbe={"httpGet": {"path": "/metrics", "port": "http"}})
    assert "livenessProbe calls /metrics" in metrics and "Fix: probe /health." in metrics
    assert messages() == []
