"""Adapters: each rule of `rules.RULES` as a pulumi_policy policy, nothing more.

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
from pulumi_policy.deserialize import serialize_properties
from pulumi_policy.proxy import UNKNOWN_STRING_VALUE, UnknownValueError

from shimmy_policy.props import reveal
from shimmy_policy.rules import RULES, Finding, Rule, StackResource

PACK_NAME = "shimmy-gpu"
LEVELS = {"mandatory": EnforcementLevel.MANDATORY, "advisory": EnforcementLevel.ADVISORY}


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


def resource_policy(rule: Rule) -> ResourceValidationPolicy:
    assert rule.check is not None
    check = rule.check

    def validate(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
        props = reveal(wire(args.props))
        findings = check(args.resource_type, args.name, props, rule.settings(args.get_config()))
        _report(findings, report_violation)

    remediate = None
    if rule.remediate is not None:
        fix = rule.remediate

        def remediate(args: ResourceValidationArgs) -> dict[str, Any] | None:
            return fix(args.resource_type, args.name, wire(args.props), rule.settings(args.get_config()))

    return ResourceValidationPolicy(
        name=rule.name,
        description=rule.description,
        validate=validate,
        remediate=remediate,
        enforcement_level=LEVELS[rule.level],
        config_schema=PolicyConfigSchema(dict(rule.schema)),
    )


def stack_policy(rule: Rule) -> StackValidationPolicy:
    assert rule.check_stack is not None
    check = rule.check_stack

    def validate(args: StackValidationArgs, report_violation: ReportViolation) -> None:
        resources = [
            StackResource(r.resource_type, r.name, r.urn, reveal(wire(r.props))) for r in args.resources
        ]
        _report(check(resources, rule.settings(args.get_config())), report_violation)

    return StackValidationPolicy(
        name=rule.name,
        description=rule.description,
        validate=validate,
        enforcement_level=LEVELS[rule.level],
        config_schema=PolicyConfigSchema(dict(rule.schema)),
    )


def policies() -> list[ResourceValidationPolicy | StackValidationPolicy]:
    return [resource_policy(r) if r.check is not None else stack_policy(r) for r in RULES]
