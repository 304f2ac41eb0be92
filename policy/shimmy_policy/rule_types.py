"""What the pack is made of: resources as the engine hands them over, findings, and the two kinds of rule.

A resource rule looks at one resource at a time; a stack rule sees every resource of the stack. Both
are plain functions from properties (camelCase, as the engine sends them) and the rule's config to
findings; `pack.py` adapts them to pulumi_policy, `registry.py` lists them.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

Level = Literal["mandatory", "advisory"]
MANDATORY: Level = "mandatory"
ADVISORY: Level = "advisory"

Schema = Mapping[str, Mapping[str, Any]]  # config key -> its JSON schema (with a default)


@dataclass(frozen=True)
class Resource:
    type: str  # the type token, e.g. kubernetes:apps/v1:Deployment
    name: str  # the Pulumi resource name
    props: Mapping[str, Any]
    urn: str = ""


@dataclass(frozen=True)
class Finding:
    rule: str
    message: str
    # The value needed is unknown during preview: reported as such and checked again at update.
    deferred: bool = False
    urn: str | None = None  # set where the finding is about another resource than the one checked
    container: str | None = None  # container rules: the container at fault


@dataclass(frozen=True)
class Subject:
    """What a rule reports on: `where` starts every message (kind, resource name, container)."""

    rule: str
    where: str
    container: str | None = None
    urn: str | None = None

    def violation(self, problem: str, fix: str) -> Finding:
        return Finding(self.rule, f"{self.where}: {problem}. Fix: {fix}.", False, self.urn, self.container)

    def pending(self, what: str) -> Finding:
        message = f"{self.where}: {what} is unknown during preview; checked at update"
        return Finding(self.rule, message, True, self.urn, self.container)


@dataclass(frozen=True, kw_only=True)
class Rule:
    name: str
    level: Level
    description: str  # what the rule checks (the engine shows it; docs/policy-pack.md's table too)
    catches: str  # one line for docs/policy-pack.md's table
    options: Schema = field(default_factory=dict)  # the rule's own config keys
    recognition: Schema = field(default_factory=dict)  # the shared keys that recognise shimmy

    @property
    def schema(self) -> dict[str, Mapping[str, Any]]:
        return {**self.recognition, **self.options}

    def settings(self, config: Mapping[str, Any] | None) -> dict[str, Any]:
        """The rule's config: schema defaults overlaid with what the stack's policy config sets."""
        values = {key: spec["default"] for key, spec in self.schema.items()}
        values.update({k: v for k, v in (config or {}).items() if k != "enforcementLevel"})
        return values


ResourceCheck = Callable[[Resource, Mapping[str, Any]], list[Finding]]
# Rewrites a resource whose properties are on the wire (secrets as signature maps); None: nothing to fix.
Remediation = Callable[[Resource, Mapping[str, Any]], dict[str, Any] | None]
StackCheck = Callable[[Sequence[Resource], Mapping[str, Any]], list[Finding]]


@dataclass(frozen=True, kw_only=True)
class ResourceRule(Rule):
    check: ResourceCheck
    remediate: Remediation | None = None


@dataclass(frozen=True, kw_only=True)
class StackRule(Rule):
    check: StackCheck


def flag(description: str, default: bool = False) -> dict[str, Any]:
    """The schema of a boolean config key."""
    return {"type": "boolean", "default": default, "description": description}


ALLOW_CPU = flag("Accept the cpu profile (GPU-less clusters). Set it only in such a stack's policy config.")
