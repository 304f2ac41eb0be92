"""The pack: every rule, in the order the engine lists them, and their table in docs/policy-pack.md."""

from __future__ import annotations

from shimmy_policy.rule_types import ResourceRule, StackRule
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

# In the order the engine lists them (and docs/policy-pack.md's table shows them).
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


def rule_table() -> str:
    """The rule table of docs/policy-pack.md, in Markdown. Print it with
    `python -c 'from shimmy_policy.registry import rule_table; print(rule_table())'`.
    """
    lines = ["| rule | level | checks | catches | config |", "| --- | --- | --- | --- | --- |"]
    for rule in RULES:
        keys = ", ".join(f"`{key}`" for key in rule.options) or "-"
        lines.append(f"| `{rule.name}` | {rule.level} | {rule.description} | {rule.catches} | {keys} |")
    return "\n".join(lines) + "\n"
