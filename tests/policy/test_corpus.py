"""The corpus: each misconfigured workload gives exactly its mandatory violations; correct ones give none."""

import pytest
from shimmy_policy.model import MANDATORY, ResourceRule
from shimmy_policy.registry import RULES, evaluate

from tests.policy.corpus import CORRECT, MISCONFIGURED

MANDATORY_RULES = {rule.name for rule in RULES if rule.level == MANDATORY}


def subjects(findings, name):
    return {(f.rule, f.container or name) for f in findings}


@pytest.mark.parametrize("case", MISCONFIGURED, ids=lambda c: c.id)
def test_misconfigured_workload_gives_exactly_its_violations(case):
    type_, name, props = case.resource()
    findings = [f for f in evaluate(type_, name, props) if f.rule in MANDATORY_RULES]
    assert subjects(findings, name) == case.expected
    for f in findings:
        assert not f.deferred
        assert f"{name}" in f.message and "Fix: " in f.message
        if f.container:
            assert f'container "{f.container}"' in f.message


@pytest.mark.parametrize("case", CORRECT, ids=lambda c: c.id)
def test_correct_variant_gives_no_finding_at_all(case):
    type_, name, props = case.resource()
    assert evaluate(type_, name, props) == []


def test_corpus_size_and_reach():
    assert len(MISCONFIGURED) >= 20 and len(CORRECT) >= 5
    kinds = {case.resource()[0].rsplit(":", 1)[-1] for case in MISCONFIGURED}
    assert {"Deployment", "Pod", "Job", "CronJob", "StatefulSet", "DaemonSet", "ReplicaSet", "Image"} <= kinds
    # Every mandatory resource rule is the expected answer of some misconfigured workload.
    expected = {rule for case in MISCONFIGURED for rule, _ in case.expected}
    assert expected == {
        rule.name for rule in RULES if rule.level == MANDATORY and isinstance(rule, ResourceRule)
    }
