"""Every Kubernetes object validates against the JSON schemas of a pinned Kubernetes release."""

import kubernetes_validate

from tests.program import Program, manifests, run_program

KUBERNETES_VERSION = "1.35.0"
# The Prometheus operator's kinds have no schema in Kubernetes' own: tests/monitoring checks their rules
# with promtool, tests/components/test_monitoring.py their shape.
OPERATOR_KINDS = {"PodMonitor", "PrometheusRule"}


def validate(objects) -> None:
    for manifest in objects:
        if manifest["kind"] in OPERATOR_KINDS:
            assert manifest["apiVersion"] == "monitoring.coreos.com/v1"
            continue
        kubernetes_validate.validate(manifest, KUBERNETES_VERSION, strict=True)


def test_objects_validate_strictly(program: Program):
    objects = manifests(program)
    assert {o["kind"] for o in objects} >= {"Deployment", "Service", "NetworkPolicy", "ConfigMap"}
    validate(objects)


def test_the_verification_objects_validate_strictly():
    validate(manifests(run_program("prod", {"verifyGpu": True})))
