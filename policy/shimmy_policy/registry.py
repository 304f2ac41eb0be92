"""The pack: every rule, and how a policy config file sets their levels and config."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from shimmy_policy.props import mapping
from shimmy_policy.rule_types import Finding, Resource, ResourceRule, StackRule
from shimmy_policy.rules import (
    bind_address,
    cuda_image,
    driver_capabilities,
    gpu_backend_flag,
    gpu_resource,
    gpu_toleration,
    image_digest,
    model_flag,
    probes,
    rollout_strategy,
    security_context,
    shimmy_patches,
    shimmy_service,
)

# In the order the engine lists them (and the README table shows them).
RULES: tuple[ResourceRule | StackRule, ...] = (
    gpu_resource.RULE,
    gpu_backend_flag.RULE,
    bind_address.RULE,
    model_flag.RULE,
    cuda_image.RULE,
    shimmy_patches.RULE,
    image_digest.RULE,
    driver_capabilities.RULE,
    probes.RULE,
    security_context.RULE,
    rollout_strategy.RULE,
    gpu_toleration.RULE,
    shimmy_service.RULE,
)
BY_NAME = {rule.name: rule for rule in RULES}


def rule_table() -> str:
    """The README's rule table, in Markdown. Print it with
    `python -c 'from shimmy_policy.registry import rule_table; print(rule_table())'`.
    """
    lines = ["| rule | level | checks | catches | config |", "| --- | --- | --- | --- | --- |"]
    for rule in RULES:
        keys = ", ".join(f"`{key}`" for key in rule.options) or "-"
        lines.append(f"| `{rule.name}` | {rule.level} | {rule.description} | {rule.catches} | {keys} |")
    return "\n".join(lines) + "\n"


def effective_level(rule: ResourceRule | StackRule, pack_config: Mapping[str, Any] | None) -> str:
    """The level a policy config file (`--policy-pack-config`) gives `rule`."""
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
