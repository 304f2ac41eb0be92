"""The corpus: each misconfigured workload gives exactly its mandatory violations; correct ones give none."""

import pytest
from shimmy_policy.registry import RULES
from shimmy_policy.rule_types import MANDATORY, ResourceRule

from tests.policy.corpus import CORRECT, MISCONFIGURED
from tests.policy.evaluate import evaluate

MANDATORY_RULES = {rule.name for rule in RULES if rule.level == MANDATORY}


@pytest.mark.parametrize("case", MISCONFIGURED, ids=lambda c: c.id)
def test_misconfigured_workload_gives_exactly_its_violations(case):
    r = case.resource()
    findings = [f for f in evaluate(r.type, r.name, r.props) if f.rule in MANDATORY_RULES]
    assert {(f.rule, f.container or r.name) for f in findings} == case.expected
    for f in findings:
        assert not f.deferred
        assert r.name in f.message and "Fix: " in f.message
        if f.container:
            assert f'container "{f.container}"' in f.message


@pytest.mark.parametrize("case", CORRECT, ids=lambda c: c.id)
def test_correct_variant_gives_no_finding_at_all(case):
    r = case.resource()
    assert evaluate(r.type, r.name, r.props) == []


def test_the_corpus_reaches_every_kind_and_every_mandatory_resource_rule():
    kinds = {case.resource().type.rsplit(":", 1)[-1] for case in MISCONFIGURED}
    assert {"Deployment", "Pod", "Job", "CronJob", "StatefulSet", "DaemonSet", "ReplicaSet", "Image"} <= kinds
    assert {"ReplicationController", "PodTemplate", "Rollout", "InferenceService", "ServingRuntime"} <= kinds
    assert {"Service", "CloneSet", "LeaderWorkerSet", "RayCluster", "PyTorchJob"} <= kinds  # Service: Knative
    expected = {rule for case in MISCONFIGURED for rule, _ in case.expected}
    assert expected == {r.name for r in RULES if r.level == MANDATORY and isinstance(r, ResourceRule)}
