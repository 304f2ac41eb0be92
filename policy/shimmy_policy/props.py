"""Property maps as the engine hands them over: camelCase, with unknowns and secrets on the wire.

During preview a value that a not-yet-created resource computes arrives as a sentinel string; in a
remediation request a secret arrives as a signature map. Rules read through these helpers so that an
unknown value is seen (never silently treated as absent) and a secret is read as its value.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from shimmy_policy.engine_api import (
    SPECIAL_SECRET_SIG,
    SPECIAL_SIG_KEY,
    UNKNOWN_ARRAY_VALUE,
    UNKNOWN_BOOLEAN_VALUE,
    UNKNOWN_NUMBER_VALUE,
    UNKNOWN_OBJECT_VALUE,
    UNKNOWN_STRING_VALUE,
)

UNKNOWNS = frozenset(
    {
        UNKNOWN_ARRAY_VALUE,
        UNKNOWN_BOOLEAN_VALUE,
        UNKNOWN_NUMBER_VALUE,
        UNKNOWN_OBJECT_VALUE,
        UNKNOWN_STRING_VALUE,
    }
)
# What a test or a caller writes for "computed by another resource, not known during preview".
UNKNOWN = UNKNOWN_STRING_VALUE


def is_unknown(value: Any) -> bool:
    return isinstance(value, str) and value in UNKNOWNS


def is_secret(value: Any) -> bool:
    return isinstance(value, Mapping) and value.get(SPECIAL_SIG_KEY) == SPECIAL_SECRET_SIG


def secret(value: Any) -> dict[str, Any]:
    return {SPECIAL_SIG_KEY: SPECIAL_SECRET_SIG, "value": value}


def reveal(value: Any) -> Any:
    """The value with every secret replaced by its plaintext, for reading only."""
    if is_secret(value):
        return reveal(value["value"])
    if isinstance(value, Mapping):
        return {key: reveal(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [reveal(item) for item in value]
    return value


def holds_secret(value: Any) -> bool:
    if is_secret(value):
        return True
    if isinstance(value, Mapping):
        return any(holds_secret(item) for item in value.values())
    if isinstance(value, list | tuple):
        return any(holds_secret(item) for item in value)
    return False


def get(value: Any, *path: str | int) -> Any:
    """The value at `path`, None where it is absent, the sentinel itself where a step is unknown."""
    for step in path:
        if is_unknown(value):
            return value
        if isinstance(step, int):
            if not isinstance(value, list | tuple) or step >= len(value):
                return None
        elif not isinstance(value, Mapping) or step not in value:
            return None
        value = value[step]
    return value


def mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def items(value: Any) -> list[Any]:
    return list(value) if isinstance(value, list | tuple) else []


def whole_count(value: Any) -> int | None:
    """A whole number as Kubernetes quantities and protobuf numbers carry it ("1", 1, 1.0)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and re.fullmatch(r"\s*\d+\s*", value, re.ASCII):
        return int(value)
    return None


def set_keeping_secret(target: dict[str, Any], key: str, value: Any) -> None:
    """Write `value`, keeping the field secret when the value it replaces held a secret."""
    target[key] = secret(value) if holds_secret(target.get(key)) else value
