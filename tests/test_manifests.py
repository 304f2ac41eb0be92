"""Every Kubernetes object validates against the JSON schemas of a pinned Kubernetes release."""

import kubernetes_validate

from tests.program import Program

KUBERNETES_VERSION = "1.35.0"


def as_sent(value):
    """JSON as the provider sends it: whole numbers are integers, not floats."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, dict):
        return {k: as_sent(v) for k, v in value.items()}
    if isinstance(value, list):
        return [as_sent(v) for v in value]
    return value


def test_objects_validate_strictly(program: Program):
    objects = [r for r in program.resources if r.type.startswith("kubernetes:") and "providers" not in r.type]
    assert {r.type for r in objects} >= {"kubernetes:apps/v1:Deployment", "kubernetes:core/v1:Service"}
    for declared in objects:
        kubernetes_validate.validate(as_sent(declared.props), KUBERNETES_VERSION, strict=True)
