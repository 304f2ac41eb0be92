"""Every Kubernetes object validates against the JSON schemas of a pinned Kubernetes release."""

import kubernetes_validate

from tests.program import Program, manifests, run_program

KUBERNETES_VERSION = "1.35.0"


def test_objects_validate_strictly(program: Program):
    objects = manifests(program)
    assert {o["kind"] for o in objects} >= {"Deployment", "Service", "NetworkPolicy", "ConfigMap"}
    for manifest in objects:
        kubernetes_validate.validate(manifest, KUBERNETES_VERSION, strict=True)


def test_the_verification_objects_validate_strictly():
    for manifest in manifests(run_program("prod", {"verifyGpu": True})):
        kubernetes_validate.validate(manifest, KUBERNETES_VERSION, strict=True)
