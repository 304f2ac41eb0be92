"""The pack behind the engine's analyzer protocol, without the CLI.

The requests are the protobuf messages the Pulumi engine sends (properties as a Struct, unknowns as
sentinels, secrets as signature maps); the servicer is the one `PolicyPack` serves over gRPC.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from google.protobuf import json_format, struct_pb2
from pulumi.runtime import proto
from pulumi_policy import EnforcementLevel
from shimmy_policy.engine_api import PolicyAnalyzerServicer
from shimmy_policy.pack import PACK_NAME, policies
from shimmy_policy.registry import RULES

from tests.policy.evaluate import effective_level, rule_config

LEVELS = {
    "advisory": proto.ADVISORY,
    "mandatory": proto.MANDATORY,
    "remediate": proto.REMEDIATE,
    "disabled": proto.DISABLED,
}
NAMES = {value: name for name, value in LEVELS.items()}


@dataclass(frozen=True)
class Diagnostic:
    policy: str
    level: str
    message: str
    urn: str


def struct(props: Mapping[str, Any]) -> struct_pb2.Struct:
    return json_format.ParseDict(dict(props), struct_pb2.Struct())


def analyzer(pack_config: Mapping[str, Any] | None = None) -> PolicyAnalyzerServicer:
    """The pack as the engine configures it from a `--policy-pack-config` file."""
    servicer = PolicyAnalyzerServicer(PACK_NAME, "0.1.0", policies(), EnforcementLevel.ADVISORY)
    request = proto.ConfigureAnalyzerRequest()
    for rule in RULES:
        entry = request.policyConfig[rule.name]
        entry.enforcementLevel = LEVELS[effective_level(rule, pack_config)]
        entry.properties.CopyFrom(struct(rule_config(rule, pack_config)))
    servicer.Configure(request, None)
    return servicer


def _request(type_: str, name: str, props: Mapping[str, Any]) -> proto.AnalyzeRequest:
    urn = f"urn:pulumi:test::shimmy-gpu::{type_}::{name}"
    return proto.AnalyzeRequest(type=type_, name=name, urn=urn, properties=struct(props))


def _diagnostics(response) -> list[Diagnostic]:
    return [
        Diagnostic(d.policyName, NAMES[d.enforcementLevel], d.message, d.urn) for d in response.diagnostics
    ]


def analyze(
    servicer: PolicyAnalyzerServicer, type_: str, name: str, props: Mapping[str, Any]
) -> list[Diagnostic]:
    return _diagnostics(servicer.Analyze(_request(type_, name, props), None))


def remediate(servicer: PolicyAnalyzerServicer, type_: str, name: str, props: Mapping[str, Any]):
    """(the policies that rewrote the resource, its properties on the wire afterwards)."""
    response = servicer.Remediate(_request(type_, name, props), None)
    fixed = [r for r in response.remediations if r.HasField("properties")]
    final = json_format.MessageToDict(fixed[-1].properties) if fixed else dict(props)
    return [r.policyName for r in fixed], final


def analyze_stack(servicer: PolicyAnalyzerServicer, resources: list[tuple[str, str, Mapping[str, Any]]]):
    request = proto.AnalyzeStackRequest()
    for type_, name, props in resources:
        request.resources.append(
            proto.AnalyzerResource(
                type=type_,
                name=name,
                urn=f"urn:pulumi:test::shimmy-gpu::{type_}::{name}",
                properties=struct(props),
            )
        )
    return _diagnostics(servicer.AnalyzeStack(request, None))
