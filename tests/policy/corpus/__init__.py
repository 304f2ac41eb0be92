"""The policy tests' shared objects: manifests as other programs write them, and builders.

Every test module takes its objects from here (never from another test module); tests/engine can
declare the same objects for the real engine.
"""

from tests.policy.corpus import backend, correct, gpu, images, kinds, serving
from tests.policy.corpus.case import DIGEST, Case, case, resource, type_token

MISCONFIGURED = [
    *gpu.MISCONFIGURED,
    *backend.MISCONFIGURED,
    *serving.MISCONFIGURED,
    *images.MISCONFIGURED,
    *kinds.KINDS_MISCONFIGURED,
]
CORRECT = [*correct.CORRECT, *images.CORRECT, *kinds.KINDS_CORRECT]

__all__ = ["CORRECT", "DIGEST", "MISCONFIGURED", "Case", "case", "resource", "type_token"]
