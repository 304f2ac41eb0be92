"""A typed reader of one stack's raw config that collects every problem instead of stopping.

Values arrive as the engine hands them to the program (`pulumi.Config.get`: strings, objects as
JSON text) or as YAML gives them (tests, tools). Each read checks the type, the length and the
whole value against what is allowed; a problem names the key (and the list index or map key), the
value and what to write instead. A secret is never echoed.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from shimmy_gpu.values import Allowed

NAMESPACE = "shimmy-gpu"
MAX_LENGTH = 512  # no config value needs more; a huge one is refused before any pattern runs
T = TypeVar("T")


class ConfigError(ValueError):
    """One or more stack config values are invalid; the message lists each with its fix."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__("invalid stack configuration:\n" + "\n".join(f"  - {p}" for p in problems))


def shown(value: Any) -> str:
    """A value as an error message quotes it: repr, cut when long (so a huge value stays readable)."""
    text = repr(value)
    return text if len(text) <= 120 else text[:100] + f"... ({len(text)} characters)"


class Reader:
    def __init__(self, raw: Mapping[str, Any]):
        self.raw = raw
        self.problems: list[str] = []

    # --- reporting -------------------------------------------------------------------------------

    def fail(self, key: str, value: Any, allowed: str) -> None:
        self.problems.append(f"{NAMESPACE}:{key} = {shown(value)} is invalid: {allowed}")

    def require(self, key: str, why: str) -> None:
        """A key that this stack's other settings make necessary is empty."""
        self.problems.append(f"{NAMESPACE}:{key} must be set: {why}")

    def _get(self, key: str) -> Any:
        if key not in self.raw:
            self.problems.append(
                f"{NAMESPACE}:{key} is missing: Pulumi.yaml declares it with a default; "
                f"set it with `pulumi config set {key} VALUE`"
            )
            return None
        return self.raw[key]

    # --- scalars ---------------------------------------------------------------------------------

    def text(
        self,
        key: str,
        allowed: Allowed | None = None,
        *,
        choices: tuple[str, ...] = (),
        optional: bool = False,
    ) -> str:
        """A string matched whole against `allowed` (or one of `choices`); empty only if `optional`."""
        value = self._get(key)
        if value is None:
            return ""
        return self._check_text(key, value, allowed, choices, optional)

    def _check_text(
        self, key: str, value: Any, allowed: Allowed | None, choices: tuple[str, ...], optional: bool
    ) -> str:
        if not isinstance(value, str):
            self.fail(key, value, "expected a string")
            return ""
        if len(value) > MAX_LENGTH:
            self.fail(key, value, f"longer than {MAX_LENGTH} characters")
            return ""
        if value == "":
            if not optional:
                expected = ", ".join(choices) if choices else allowed.describes if allowed else "a value"
                self.fail(key, value, f"must not be empty: expected {expected}")
            return ""
        if choices and value not in choices:
            self.fail(key, value, "allowed values are " + ", ".join(choices))
            return ""
        if allowed is not None and not allowed.matches(value):
            self.fail(key, value, f"expected {allowed.describes}")
            return ""
        return value

    def integer(self, key: str, low: int, high: int) -> int:
        value = self._get(key)
        if value is None:
            return low
        parsed = as_int(value)
        if parsed is None or not low <= parsed <= high:
            self.fail(key, value, f"expected a whole number from {low} to {high}")
            return low
        return parsed

    def boolean(self, key: str) -> bool:
        value = self._get(key)
        if isinstance(value, bool):
            return value
        if value in ("true", "false"):
            return value == "true"
        if value is not None:
            self.fail(key, value, "expected true or false")
        return False

    def secret(self, key: str) -> str | None:
        """A secret: only its presence and type are checked, and it is never shown."""
        value = self._get(key)
        if value in (None, ""):
            return None
        if not isinstance(value, str) or len(value) > 4096 or re.search(r"[\x00-\x1f]", value):
            self.problems.append(f"{NAMESPACE}:{key} is invalid: expected one line of text (value not shown)")
            return None
        return value

    # --- structures ------------------------------------------------------------------------------

    def _structured(self, key: str, kind: type[T], what: str) -> T:
        value = self._get(key)
        if isinstance(value, str):  # pulumi.Config hands lists and objects over as JSON text
            try:
                value = json.loads(value)
            except json.JSONDecodeError:
                self.fail(key, value, f"expected {what} (JSON)")
                return kind()
        if value is None:
            return kind()
        if not isinstance(value, kind):
            self.fail(key, value, f"expected {what}")
            return kind()
        return value

    def text_list(self, key: str, allowed: Allowed, what: str, *, max_items: int = 32) -> tuple[str, ...]:
        """A list of strings, each matched whole; a bad item is named by its index."""
        items = self._structured(key, list, what)
        if len(items) > max_items:
            self.fail(key, items, f"at most {max_items} items")
            return ()
        values = [self._check_text(f"{key}[{i}]", item, allowed, (), False) for i, item in enumerate(items)]
        return tuple(v for v in values if v)

    def text_map(self, key: str, keys: Allowed, values: Allowed, what: str) -> tuple[tuple[str, str], ...]:
        """A map of string to string, keys and values each matched whole; sorted."""
        mapping = self._structured(key, dict, what)
        pairs = []
        for name, value in mapping.items():
            where = f"{key}[{name!r}]"
            if not keys.matches(str(name)):
                self.fail(where, name, f"the key must be {keys.describes}")
            elif not isinstance(value, str):
                self.fail(where, value, "expected a string value")
            elif not values.matches(value):
                self.fail(where, value, f"expected {values.describes}")
            else:
                pairs.append((str(name), value))
        return tuple(sorted(pairs))

    def fields(
        self, key: str, fields: Mapping[str, Callable[[Any], str | None]], what: str
    ) -> tuple[tuple[str, Any], ...]:
        """A map from some of `fields` to values, each checked by its field's function (which returns
        what is wrong, or None); other names are refused. Sorted."""
        mapping = self._structured(key, dict, what)
        pairs = []
        for name, value in mapping.items():
            where = f"{key}[{name!r}]"
            check = fields.get(name)
            if check is None:
                self.fail(where, name, "the key must be one of " + ", ".join(fields))
            elif problem := check(value):
                self.fail(where, value, problem)
            else:
                pairs.append((str(name), value))
        return tuple(sorted(pairs))

    def objects(
        self, key: str, read: Callable[[str, Mapping[str, Any]], T | None], what: str
    ) -> tuple[T, ...]:
        """A list of objects, each read by `read(where, item)` (which reports its own problems)."""
        items = self._structured(key, list, what)
        parsed = []
        for i, item in enumerate(items):
            where = f"{key}[{i}]"
            if not isinstance(item, dict):
                self.fail(where, item, "expected an object")
                continue
            result = read(where, item)
            if result is not None:
                parsed.append(result)
        return tuple(parsed)


def as_int(value: Any) -> int | None:
    """A whole number as config gives it (an int, or its decimal text), else None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and re.fullmatch(r"-?[0-9]{1,9}", value):
        return int(value)
    return None
