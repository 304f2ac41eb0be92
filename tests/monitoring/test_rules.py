"""The PrometheusRule as the program renders it: promtool reads it, and each alert fires on series
that mean trouble and stays quiet on series that do not (`promtool test rules`). The dashboard's
expressions parse too."""

import json

import pytest

from shimmy_gpu import dashboard
from shimmy_gpu.config import parse_settings
from shimmy_gpu.pod import gate_series as gs
from tests.monitoring.conftest import promtool
from tests.program import run_program, stack_config

RULE = "kubernetes:monitoring.coreos.com/v1:PrometheusRule"
NS = 'namespace="shimmy"'


@pytest.fixture(scope="module")
def groups():
    return run_program("prod").one(RULE).props["spec"]["groups"]


@pytest.fixture
def rule_file(tmp_path, groups):
    path = tmp_path / "rules.json"  # JSON is YAML: promtool reads it as written
    path.write_text(json.dumps({"groups": groups}))
    return path


def test_promtool_accepts_the_rendered_rules(prometheus_bin, rule_file):
    result = promtool(prometheus_bin, "check", "rules", rule_file)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS: 10 rules found" in result.stdout


def test_every_dashboard_expression_parses(prometheus_bin, tmp_path):
    panels = dashboard.panels(parse_settings("prod", stack_config("prod")).deployment)
    exprs = [expr for _, _, targets in panels for expr, _ in targets]
    rules = [{"record": f"panel:expression_{i}:check", "expr": e} for i, e in enumerate(exprs)]
    path = tmp_path / "panels.json"
    path.write_text(json.dumps({"groups": [{"name": "panels", "rules": rules}]}))
    result = promtool(prometheus_bin, "check", "rules", path)
    assert result.returncode == 0, result.stdout + result.stderr


def test_promtool_refuses_a_broken_expression(prometheus_bin, tmp_path):
    # the check above could not pass on anything: a broken expression fails it
    path = tmp_path / "broken.json"
    path.write_text(
        json.dumps({"groups": [{"name": "x", "rules": [{"record": "a:b", "expr": "sum(rate(x[5m])"}]}]})
    )
    assert promtool(prometheus_bin, "check", "rules", path).returncode != 0


def summary(groups, name, **labels):
    (rule,) = [r for g in groups for r in g["rules"] if r.get("alert") == name]
    text = rule["annotations"]["summary"]
    for key, value in labels.items():
        text = text.replace(f"{{{{ $labels.{key} }}}}", value)
    return {"summary": text}


def series(name, labels, values):
    return {"series": f"{name}{{{labels}}}", "values": values}


def case(groups, inputs, eval_time, name, fires, labels=None, **templated):
    """One promtool test: `name` at `eval_time` fires with `labels`, or does not fire."""
    expected = []
    if fires:
        expected = [{"exp_labels": labels, "exp_annotations": summary(groups, name, **templated)}]
    return {
        "interval": "1m",
        "input_series": inputs,
        "alert_rule_test": [{"eval_time": eval_time, "alertname": name, "exp_alerts": expected}],
    }


def scenarios(groups):
    crit = {"severity": "critical", "namespace": "shimmy"}
    warn = {"severity": "warning", "namespace": "shimmy"}
    queue = lambda queued: [  # noqa: E731
        series(gs.QUEUED, f'{NS},pod="p"', f"{queued}x15"),
        series(gs.QUEUE_CAPACITY, f'{NS},pod="p"', "32x15"),
    ]
    answers = lambda rejected: [  # noqa: E731
        series(gs.REQUESTS, f'{NS},route="/api/generate",outcome="answered"', "0+60x20"),
        series(gs.REQUESTS, f'{NS},route="/api/generate",outcome="queue_full"', f"0+{rejected}x20"),
        series(gs.REQUESTS, f'{NS},route="/v1/models",outcome="answered"', "0+500x20"),  # not generations
    ]
    latency = lambda fast, minutes: [  # noqa: E731  fast of every 10 answers within the 30 s objective
        series(f"{gs.DURATION}_bucket", f'{NS},route="/api/generate",le="30.0"', f"0+{fast}x{minutes}"),
        series(f"{gs.DURATION}_count", f'{NS},route="/api/generate"', f"0+10x{minutes}"),
    ]
    ready = lambda values: [  # noqa: E731
        series("kube_deployment_status_replicas_available", f'{NS},deployment="shimmy"', values)
    ]
    job = lambda name, values: [series("kube_job_status_failed", f'{NS},job_name="{name}"', values)]  # noqa: E731
    return [
        case(groups, queue(26), "10m", "ShimmyQueueSaturated", True, {**warn, "pod": "p"}, pod="p"),
        case(groups, queue(20), "10m", "ShimmyQueueSaturated", False),
        case(groups, answers(10), "15m", "ShimmyRejectingRequests", True, crit),  # 1 in 7
        case(groups, answers(1), "15m", "ShimmyRejectingRequests", False),  # 1 in 61
        case(groups, latency(1, 120), "70m", "ShimmyLatencyBudgetBurnFast", True, crit),  # 90% slow
        case(groups, latency(4, 500), "420m", "ShimmyLatencyBudgetBurnFast", False),  # 60% slow
        case(groups, latency(6, 500), "420m", "ShimmyLatencyBudgetBurnSlow", True, warn),  # 40% slow
        case(groups, latency(8, 500), "420m", "ShimmyLatencyBudgetBurnSlow", False),  # 20% slow
        case(groups, ready("1 1 0 0 0 0 0 0 0 0"), "9m", "ShimmyNoPodReady", True, crit),
        case(groups, job("other", "0x10"), "9m", "ShimmyNoPodReady", True, crit),  # no series at all
        case(groups, ready("1x10"), "9m", "ShimmyNoPodReady", False),
        case(
            groups,
            job("verify-gpu-3f9a2c1", "0 0 1 1"),
            "3m",
            "ShimmyGpuVerificationFailed",
            True,
            {**crit, "job_name": "verify-gpu-3f9a2c1"},
        ),
        case(groups, job("verify-gpu-3f9a2c1", "0x4"), "3m", "ShimmyGpuVerificationFailed", False),
        case(groups, job("backup-27", "0 0 1 1"), "3m", "ShimmyGpuVerificationFailed", False),
    ]


def test_each_alert_fires_on_trouble_and_stays_quiet_otherwise(prometheus_bin, rule_file, groups):
    tests = scenarios(groups)
    alerts = {r["alert"] for g in groups for r in g["rules"] if "alert" in r}
    for fires in (True, False):  # every alert has a case of each
        assert {
            t["alert_rule_test"][0]["alertname"]
            for t in tests
            if bool(t["alert_rule_test"][0]["exp_alerts"]) == fires
        } == alerts
    path = rule_file.parent / "tests.json"
    path.write_text(json.dumps({"rule_files": [rule_file.name], "evaluation_interval": "1m", "tests": tests}))
    result = promtool(prometheus_bin, "test", "rules", path.name, cwd=rule_file.parent)
    assert result.returncode == 0, result.stdout + result.stderr


def test_promtool_test_rules_fails_when_an_expectation_is_wrong(prometheus_bin, rule_file, groups):
    wrong = case(
        groups, [series(gs.QUEUED, f'{NS},pod="p"', "0x15")], "10m", "ShimmyQueueSaturated", True, {}
    )
    path = rule_file.parent / "wrong.json"
    path.write_text(
        json.dumps({"rule_files": [rule_file.name], "evaluation_interval": "1m", "tests": [wrong]})
    )
    assert promtool(prometheus_bin, "test", "rules", path.name, cwd=rule_file.parent).returncode != 0
