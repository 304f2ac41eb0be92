"""The pack's rules run as the engine runs them, without the engine: each rule's level and config
taken from a policy config file (`--policy-pack-config`), the disabled ones left out.

The pack itself never needs this (the engine applies the config file and calls each policy);
tests use it to run rules in-process, and tests/policy/engine.py to configure the real analyzer.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Literal

from shimmy_policy.props import mapping
from shimmy_policy.registry import RULES
from shimmy_policy.rule_types import Finding, Resource, ResourceRule, StackRule

# The levels a policy config file may set; a rule itself declares only mandatory or advisory.
EngineLevel = Literal["mandatory", "advisory", "remediate", "disabled"]

BY_NAME = {rule.name: rule for rule in RULES}


def effective_level(rule: ResourceRule | StackRule, pack_config: Mapping[str, Any] | None) -> EngineLevel:
    """The level a policy config file gives `rule`."""
    pack_config = pack_config or {}
    for key in (rule.name, "all"):
        value = pack_config.get(key)
        level = value if isinstance(value, str) else mapping(value).get("enforcementLevel")
        if level:
            return level
    return rule.level


def rule_config(rule: ResourceRule | StackRule, pack_config: Mapping[str, Any] | None) -> dict[str, Any]:
    value = (pack_config or {}).get(rule.name)
    return rule.settings(value if isinstance(value, Mapping) else None)


def _enabled(pack_config: Mapping[str, Any] | None) -> list[ResourceRule | StackRule]:
    return [rule for rule in RULES if effective_level(rule, pack_config) != "disabled"]


def evaluate(
    resource_type: str, name: str, props: Mapping[str, Any], pack_config: Mapping[str, Any] | None = None
) -> list[Finding]:
    """Every resource rule's findings for one resource, as the pack would report them."""
    resource = Resource(resource_type, name, props)
    return [
        f
        for rule in _enabled(pack_config)
        if isinstance(rule, ResourceRule)
        for f in rule.check(resource, rule_config(rule, pack_config))
    ]


def evaluate_stack(
    resources: Sequence[Resource], pack_config: Mapping[str, Any] | None = None
) -> list[Finding]:
    """Every stack rule's findings for the stack's resources."""
    return [
        f
        for rule in _enabled(pack_config)
        if isinstance(rule, StackRule)
        for f in rule.check(resources, rule_config(rule, pack_config))
    ]


def rule_findings(
    rule: ResourceRule | StackRule,
    subject: Resource | Sequence[Resource],
    config: Mapping[str, Any] | None = None,
) -> list[Finding]:
    """One rule's findings on a resource (a stack rule: on the stack's resources), with `config`
    overlaid on its defaults as the engine overlays the rule's entry of a policy config file."""
    return rule.check(subject, rule.settings(config))
