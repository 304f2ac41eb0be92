"""The monitoring objects each `monitoring` mode declares (the rules' meaning: tests/monitoring)."""

import json

import pytest

from shimmy_gpu.pod import gate_series
from tests.program import run_program

DEPLOYMENT = "kubernetes:apps/v1:Deployment"
POD_MONITOR = "kubernetes:monitoring.coreos.com/v1:PodMonitor"
RULE = "kubernetes:monitoring.coreos.com/v1:PrometheusRule"
CONFIG_MAP = "kubernetes:core/v1:ConfigMap"


def pod_metadata(program):
    return program.one(DEPLOYMENT).props["spec"]["template"]["metadata"]


def test_none_declares_no_monitoring_object_and_no_annotation():
    program = run_program("prod", {"monitoring": "none"})
    assert program.of_type(POD_MONITOR) == program.of_type(RULE) == []
    assert [c.name for c in program.of_type(CONFIG_MAP)] == ["shimmy-gate"]
    assert "annotations" not in pod_metadata(program)


def test_annotations_point_prometheus_at_the_metrics_port_and_nothing_else_is_declared():
    program = run_program("prod", {"monitoring": "annotations", "metricsPort": 9100})
    assert pod_metadata(program)["annotations"] == {
        "prometheus.io/scrape": "true",
        "prometheus.io/port": "9100",
        "prometheus.io/path": "/metrics",
    }
    assert program.of_type(POD_MONITOR) == program.of_type(RULE) == []


def test_the_operator_gets_a_pod_monitor_rules_and_a_dashboard_with_its_selector_labels():
    program = run_program("prod", {"monitoringLabels": {"release": "kps"}, "monitoringNamespace": "obs"})
    assert "annotations" not in pod_metadata(program)
    monitor, rule = program.one(POD_MONITOR).props, program.one(RULE).props
    pod_labels = pod_metadata(program)["labels"]
    assert monitor["spec"]["selector"]["matchLabels"].items() <= pod_labels.items()
    assert monitor["spec"]["namespaceSelector"] == {"matchNames": ["shimmy"]}
    assert monitor["spec"]["podMetricsEndpoints"] == [
        {"port": "metrics", "path": "/metrics", "interval": "15s"}
    ]
    assert monitor["metadata"]["namespace"] == rule["metadata"]["namespace"] == "shimmy"
    alerts = [r["alert"] for g in rule["spec"]["groups"] for r in g["rules"] if "alert" in r]
    assert alerts == [
        "ShimmyQueueSaturated",
        "ShimmyRejectingRequests",
        "ShimmyLatencyBudgetBurnFast",
        "ShimmyLatencyBudgetBurnSlow",
        "ShimmyNoPodReady",
        "ShimmyGpuVerificationFailed",
    ]
    (board,) = [c.props for c in program.of_type(CONFIG_MAP) if c.name == "shimmy-dashboard"]
    assert board["metadata"]["namespace"] == "obs"  # where Grafana's sidecar looks
    for labels in (board["metadata"]["labels"], monitor["metadata"]["labels"], rule["metadata"]["labels"]):
        assert labels["release"] == "kps"
    assert board["metadata"]["labels"]["grafana_dashboard"] == "1"
    dashboard = json.loads(board["data"]["shimmy.json"])
    assert dashboard["uid"] == "shimmy-prod"
    ids = [p["id"] for p in dashboard["panels"]]
    assert len(ids) == len(set(ids)) >= 10
    for panel in dashboard["panels"]:
        assert panel["targets"] and all(
            'namespace="shimmy"' in t["expr"] for t in panel["targets"] if "vector(" not in t["expr"]
        )


@pytest.mark.parametrize("objective", ["0.5", "30", "600"])
def test_the_latency_objective_is_read_from_its_own_bucket(objective):
    rule = run_program("prod", {"latencyObjectiveSeconds": objective}).one(RULE).props
    (records, _alerts) = rule["spec"]["groups"]
    le = gate_series.le_text(float(objective))
    assert all(f'le="{le}"' in r["expr"] for r in records["rules"])
