"""The pulumi_policy internals behind shimmy_policy/engine_api.py exist in the pinned release and
behave as the pack uses them: checked through the analyzer the engine talks to, with a policy of
this test's own, so that a pulumi-policy upgrade that moves or changes one fails here first."""

from __future__ import annotations

from importlib.metadata import version

from google.protobuf import json_format, struct_pb2
from pulumi.runtime import proto
from pulumi_policy import (
    EnforcementLevel,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
)
from shimmy_policy.engine_api import (
    SPECIAL_SECRET_SIG,
    SPECIAL_SIG_KEY,
    UNKNOWN_ARRAY_VALUE,
    UNKNOWN_BOOLEAN_VALUE,
    UNKNOWN_NUMBER_VALUE,
    UNKNOWN_OBJECT_VALUE,
    UNKNOWN_STRING_VALUE,
    PolicyAnalyzerServicer,
    UnknownValueError,
    serialize_properties,
)

from scripts.pins import pinned
from tests.program import ROOT
from tests.test_import_direction import imported

SECRET = {SPECIAL_SIG_KEY: SPECIAL_SECRET_SIG, "value": "hunter2"}


def test_the_installed_pulumi_policy_is_the_pinned_one():
    # The release these checks were written against: an upgrade changes this line on purpose.
    pin = pinned("pulumi-policy", ROOT / "policy" / "requirements.txt")
    assert version("pulumi-policy") == pin == "1.21.0"


def test_only_the_adapter_imports_pulumi_policy_internals():
    """Elsewhere only the package's public names (`from pulumi_policy import ...`)."""
    adapter = ROOT / "policy" / "shimmy_policy" / "engine_api.py"
    files = [*(ROOT / "policy").rglob("*.py"), *(ROOT / "tests").rglob("*.py")]
    internal = [
        f"{path.relative_to(ROOT)}:{line} {module}"
        for path in files
        if path != adapter
        for line, module in imported(path.read_text())
        if module.startswith("pulumi_policy.")
    ]
    assert internal == []
    assert {m for _, m in imported(adapter.read_text()) if m.startswith("pulumi_policy.")}


def test_the_sentinels_are_five_distinct_strings():
    sentinels = {UNKNOWN_ARRAY_VALUE, UNKNOWN_BOOLEAN_VALUE, UNKNOWN_NUMBER_VALUE, UNKNOWN_OBJECT_VALUE}
    assert len(sentinels | {UNKNOWN_STRING_VALUE}) == 5
    assert all(isinstance(s, str) for s in sentinels)


def _servicer(validate=None, remediate=None, level=EnforcementLevel.MANDATORY) -> PolicyAnalyzerServicer:
    policy = ResourceValidationPolicy(
        name="probe", description="records what it is given", validate=validate, remediate=remediate
    )
    servicer = PolicyAnalyzerServicer("probe-pack", "0.1.0", [policy], level)
    servicer.Configure(proto.ConfigureAnalyzerRequest(), None)
    return servicer


def _request(props: dict) -> proto.AnalyzeRequest:
    struct = json_format.ParseDict(props, struct_pb2.Struct())
    return proto.AnalyzeRequest(type="test:index:Thing", name="t", urn="urn:t", properties=struct)


def test_serialize_properties_gives_back_the_wire_form_the_proxies_hide():
    seen = {}

    def validate(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
        seen["wire"] = dict(serialize_properties(args.props))
        try:
            args.props["image"]
        except UnknownValueError:
            seen["raised"] = True

    wire = {"image": UNKNOWN_STRING_VALUE, "env": [{"name": "A", "value": "b"}]}
    _servicer(validate).Analyze(_request(wire), None)
    assert seen == {"wire": wire, "raised": True}


def test_a_remediation_sees_a_secret_as_its_signature_map_and_returns_it_so():
    seen = {}

    def remediate(args: ResourceValidationArgs) -> dict:
        seen["wire"] = dict(serialize_properties(args.props))
        return {**seen["wire"], "fixed": True}

    servicer = _servicer(remediate=remediate, level=EnforcementLevel.REMEDIATE)
    response = servicer.Remediate(_request({"password": SECRET}), None)
    assert seen["wire"] == {"password": SECRET}
    (done,) = response.remediations
    assert json_format.MessageToDict(done.properties) == {"password": SECRET, "fixed": True}


def test_an_unknown_value_error_becomes_an_advisory_that_names_the_check():
    class CheckedAtUpdate(UnknownValueError):
        def __init__(self):
            super().__init__(UNKNOWN_STRING_VALUE, [])
            self.message = "the digest is checked at update"

    def validate(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
        raise CheckedAtUpdate()

    (d,) = _servicer(validate).Analyze(_request({}), None).diagnostics
    assert d.enforcementLevel == proto.ADVISORY
    assert d.message.endswith("during preview: the digest is checked at update")
