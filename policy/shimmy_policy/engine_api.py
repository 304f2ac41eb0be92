"""The pulumi_policy internals the pack relies on, in one place.

pulumi_policy's public API hands a policy its properties behind proxies that raise on an unknown
value, and has no name for the wire form. The pack needs that wire form (an unknown value seen as
its sentinel, a secret as its signature map, so a remediation keeps it secret) and a way to say
"checked at update". Those names live in pulumi_policy's modules, not its `__all__`, and may move
with any release: pulumi-policy is pinned (policy/requirements.txt), and
tests/policy/test_engine_api.py checks that each name exists and behaves as the pack uses it.
"""

from __future__ import annotations

from pulumi_policy.deserialize import SPECIAL_SECRET_SIG, SPECIAL_SIG_KEY, serialize_properties
from pulumi_policy.policy import _PolicyAnalyzerServicer as PolicyAnalyzerServicer
from pulumi_policy.proxy import (
    UNKNOWN_ARRAY_VALUE,
    UNKNOWN_BOOLEAN_VALUE,
    UNKNOWN_NUMBER_VALUE,
    UNKNOWN_OBJECT_VALUE,
    UNKNOWN_STRING_VALUE,
    UnknownValueError,
)

__all__ = [
    # A secret on the wire: {SPECIAL_SIG_KEY: SPECIAL_SECRET_SIG, "value": ...}.
    "SPECIAL_SECRET_SIG",
    "SPECIAL_SIG_KEY",
    # Sentinels the engine sends for values unknown during preview, one per type.
    "UNKNOWN_ARRAY_VALUE",
    "UNKNOWN_BOOLEAN_VALUE",
    "UNKNOWN_NUMBER_VALUE",
    "UNKNOWN_OBJECT_VALUE",
    "UNKNOWN_STRING_VALUE",
    # The analyzer that PolicyPack serves to the engine over gRPC; the tests drive it in-process.
    "PolicyAnalyzerServicer",
    # Raised by a policy, it becomes an advisory "can't run policy ... during preview: <message>".
    "UnknownValueError",
    # Properties as the engine sent them, out of the SDK's proxies.
    "serialize_properties",
]
