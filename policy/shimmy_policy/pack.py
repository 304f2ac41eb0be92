"""Adapters: each rule of `registry.RULES` as a pulumi_policy policy, nothing more.

Properties are taken off the wire form (`serialize_properties` unwraps the SDK's proxies), so a rule
sees an unknown value as its sentinel instead of the proxy raising on first touch. A deferred finding
(a value unknown during preview) is raised as the SDK's UnknownValueError: the engine then shows an
advisory "can't run policy ... during preview: <what is checked at update>" instead of a violation.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pulumi_policy import (
    EnforcementLevel,
    PolicyConfigSchema,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
)

from shimmy_policy.engine_api import UNKNOWN_STRING_VALUE, UnknownValueError, serialize_properties
from shimmy_policy.props import reveal
from shimmy_policy.registry import RULES
from shimmy_policy.rule_types import Finding, Level, Resource, ResourceRule, StackRule

PACK_NAME = "shimmy-gpu"
LEVELS: dict[Level, EnforcementLevel] = {
    "mandatory": EnforcementLevel.MANDATORY,
    "advisory": EnforcementLevel.ADVISORY,
}


class CheckedAtUpdate(UnknownValueError):
    """A rule needs a value that only exists after this update has created its inputs."""

    def __init__(self, findings: list[Finding]):
        super().__init__(UNKNOWN_STRING_VALUE, [])
        self.message = "; ".join(f.message for f in findings)


def wire(props: Mapping[str, Any]) -> dict[str, Any]:
    """Properties as the engine sent them: unknown sentinels kept, secrets as signature maps."""
    return dict(serialize_properties(props))


def _report(findings: list[Finding], report_violation: ReportViolation) -> None:
    for f in findings:
        if not f.deferred:
            report_violation(f.message, f.urn)
    deferred = [f for f in findings if f.deferred]
    if deferred:
        raise CheckedAtUpdate(deferred)


def resource_policy(rule: ResourceRule) -> ResourceValidationPolicy:
    def validate(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
        resource = Resource(args.resource_type, args.name, reveal(wire(args.props)), args.urn)
        _report(rule.check(resource, rule.settings(args.get_config())), report_violation)

    remediate = None
    if rule.remediate is not None:
        fix = rule.remediate

        def remediate(args: ResourceValidationArgs) -> dict[str, Any] | None:
            resource = Resource(args.resource_type, args.name, wire(args.props), args.urn)
            return fix(resource, rule.settings(args.get_config()))

    return ResourceValidationPolicy(
        name=rule.name,
        description=rule.description,
        validate=validate,
        remediate=remediate,
        enforcement_level=LEVELS[rule.level],
        config_schema=PolicyConfigSchema(dict(rule.schema)),
    )


def stack_policy(rule: StackRule) -> StackValidationPolicy:
    def validate(args: StackValidationArgs, report_violation: ReportViolation) -> None:
        resources = [Resource(r.resource_type, r.name, reveal(wire(r.props)), r.urn) for r in args.resources]
        _report(rule.check(resources, rule.settings(args.get_config())), report_violation)

    return StackValidationPolicy(
        name=rule.name,
        description=rule.description,
        validate=validate,
        enforcement_level=LEVELS[rule.level],
        config_schema=PolicyConfigSchema(dict(rule.schema)),
    )


def policies() -> list[ResourceValidationPolicy | StackValidationPolicy]:
    return [resource_policy(r) if isinstance(r, ResourceRule) else stack_policy(r) for r in RULES]
