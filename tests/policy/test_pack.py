"""The pack behind the analyzer protocol: levels, config, preview unknowns, remediation, stack rule."""

import copy

import pytest
from pulumi.runtime import proto
from shimmy_policy.props import UNKNOWN, secret
from shimmy_policy.registry import RULES

from tests.policy.corpus import MISCONFIGURED
from tests.policy.corpus.builders import DEPLOYMENT, container, deployment, service
from tests.policy.engine import analyze, analyze_stack, analyzer, remediate


def test_the_engine_learns_every_rule_with_its_level_and_config_schema():
    info = analyzer().GetAnalyzerInfo(None, None)
    got = {p.name: p for p in info.policies}
    assert set(got) == {rule.name for rule in RULES}
    for rule in RULES:
        assert (
            got[rule.name].enforcementLevel
            == {"mandatory": proto.MANDATORY, "advisory": proto.ADVISORY}[rule.level]
        )
        assert set(got[rule.name].configSchema.properties) == set(rule.schema)
        assert got[rule.name].description == rule.description


def test_a_correct_deployment_passes_every_policy():
    assert analyze(analyzer(), DEPLOYMENT, "shimmy", deployment()) == []


def test_violations_carry_the_policy_level_and_name_resource_container_and_fix():
    bad = deployment(args=["serve", "--model-path", "/models"], image="ghcr.io/acme/shimmy:1.9.0")
    del bad["spec"]["strategy"]
    got = {(d.policy, d.level) for d in analyze(analyzer(), DEPLOYMENT, "shimmy", bad)}
    assert got == {
        ("gpu-backend-flag", "mandatory"),
        ("bind-address", "mandatory"),
        ("model-flag", "mandatory"),
        ("image-digest", "mandatory"),
        ("rollout-strategy", "advisory"),
    }
    for d in analyze(analyzer(), DEPLOYMENT, "shimmy", bad):
        assert 'Deployment "shimmy"' in d.message and "Fix: " in d.message


def test_preview_enforces_gpu_limit_and_args_and_defers_only_the_unknown_digest():
    # Before the first build the image (repo_digest) is unknown; the GPU limit and the args are known.
    props = deployment(
        image=UNKNOWN, resources={"limits": {"memory": "1Gi"}}, args=["serve", "--bind", "0.0.0.0:8081"]
    )
    got = analyze(analyzer(), DEPLOYMENT, "shimmy", props)
    assert {(d.policy, d.level) for d in got} == {
        ("gpu-resource", "mandatory"),
        ("gpu-backend-flag", "mandatory"),
        ("image-digest", "advisory"),
    }
    (pending,) = [d for d in got if d.policy == "image-digest"]
    assert "during preview" in pending.message and "checked at update" in pending.message
    # At update the digest is known: a tag there is a mandatory violation, a digest passes.
    tagged = analyze(analyzer(), DEPLOYMENT, "shimmy", deployment(image="registry.example.com/ml/shimmy:v1"))
    assert [(d.policy, d.level) for d in tagged] == [("image-digest", "mandatory")]


def test_stack_policy_config_makes_image_digest_advisory_or_accepts_tags():
    props = deployment(image="registry.example.com/ml/shimmy:v1")
    relaxed = analyze(analyzer({"image-digest": "advisory"}), DEPLOYMENT, "shimmy", props)
    assert [(d.policy, d.level) for d in relaxed] == [("image-digest", "advisory")]
    assert analyze(analyzer({"image-digest": {"requireDigest": False}}), DEPLOYMENT, "shimmy", props) == []
    latest = deployment(image="registry.example.com/ml/shimmy:latest")
    assert analyze(analyzer({"image-digest": {"requireDigest": False}}), DEPLOYMENT, "shimmy", latest) != []


REMEDIATE = {"gpu-resource": "remediate", "gpu-backend-flag": "remediate"}


def test_remediation_adds_the_flag_and_the_limit_and_the_result_passes_every_rule():
    bad = deployment(
        args=["serve", "--bind", "0.0.0.0:8081", "--gpu-backend=auto", "--model-path", "/models/a.gguf"],
        resources={"limits": {"cpu": "4"}},
    )
    engine = analyzer(REMEDIATE)
    assert {d.policy for d in analyze(analyzer(), DEPLOYMENT, "shimmy", bad)} == {
        "gpu-resource",
        "gpu-backend-flag",
    }
    fixed_by, fixed = remediate(engine, DEPLOYMENT, "shimmy", bad)
    assert fixed_by == ["gpu-resource", "gpu-backend-flag"]
    assert container(fixed)["args"] == [
        "serve",
        "--bind",
        "0.0.0.0:8081",
        "--model-path",
        "/models/a.gguf",
        "--gpu-backend",
        "cuda",
    ]
    assert container(fixed)["resources"]["limits"] == {"cpu": "4", "nvidia.com/gpu": "1"}
    assert analyze(engine, DEPLOYMENT, "shimmy", fixed) == []
    assert analyze(analyzer(), DEPLOYMENT, "shimmy", fixed) == []


def test_remediation_moves_a_gpu_from_requests_and_keeps_secrets_and_unknowns():
    bad = deployment(
        image=UNKNOWN,  # preview: remediation still applies
        command=["shimmy", "serve", "--bind", "0.0.0.0:8081", "--model-path", "/models/a.gguf"],
        args=[],
        env=[{"name": "HF_TOKEN", "value": secret("hf_abc")}],
        resources={"requests": {"nvidia.com/gpu": "2", "cpu": "1"}},
    )
    fixed_by, fixed = remediate(analyzer(REMEDIATE), DEPLOYMENT, "shimmy", bad)
    assert fixed_by == ["gpu-resource", "gpu-backend-flag"]
    c = container(fixed)
    assert c["resources"] == {
        "requests": {"nvidia.com/gpu": "2", "cpu": "1"},
        "limits": {"nvidia.com/gpu": "2"},
    }
    assert c["command"][-2:] == ["--gpu-backend", "cuda"] and c["args"] == []
    assert c["env"] == [{"name": "HF_TOKEN", "value": secret("hf_abc")}]
    assert c["image"] == UNKNOWN
    got = analyze(analyzer(), DEPLOYMENT, "shimmy", fixed)
    assert [(d.policy, d.level) for d in got] == [("image-digest", "advisory")]


def test_remediation_keeps_secret_args_secret():
    args = ["serve", "--bind", "0.0.0.0:8081", "--model-path", "/models/a.gguf"]
    fixed_by, fixed = remediate(analyzer(REMEDIATE), DEPLOYMENT, "shimmy", deployment(args=secret(args)))
    assert fixed_by == ["gpu-backend-flag"]
    assert container(fixed)["args"] == secret([*args, "--gpu-backend", "cuda"])


def test_remediation_leaves_a_shell_script_alone_and_the_violation_stays_mandatory():
    script = ["/bin/sh", "-c", "exec shimmy serve --bind 0.0.0.0:8081 --model-path /models/a.gguf"]
    bad = deployment(command=script, args=[])
    engine = analyzer(REMEDIATE)
    assert remediate(engine, DEPLOYMENT, "shimmy", bad) == ([], bad)
    assert [(d.policy, d.level) for d in analyze(engine, DEPLOYMENT, "shimmy", bad)] == [
        ("gpu-backend-flag", "mandatory")
    ]


def test_remediation_does_not_touch_correct_or_foreign_resources():
    engine = analyzer(REMEDIATE)
    good = deployment()
    assert remediate(engine, DEPLOYMENT, "shimmy", good) == ([], good)
    other = copy.deepcopy(good)
    container(other).update(name="web", image="nginx:1.27", args=[])
    assert remediate(engine, DEPLOYMENT, "web", other) == ([], other)


def test_stack_rule_wants_a_service_that_selects_the_pods_and_targets_the_bound_port():
    engine = analyzer()
    svc = "kubernetes:core/v1:Service"
    assert analyze_stack(engine, [(DEPLOYMENT, "shimmy", deployment()), (svc, "shimmy", service())]) == []
    assert (
        analyze_stack(engine, [(DEPLOYMENT, "shimmy", deployment()), (svc, "shimmy", service("http"))]) == []
    )
    (missing,) = analyze_stack(engine, [(DEPLOYMENT, "shimmy", deployment())])
    assert missing.policy == "shimmy-service" and missing.level == "mandatory"
    assert missing.urn.endswith("Deployment::shimmy") and "no Service selects" in missing.message
    (wrong,) = analyze_stack(engine, [(DEPLOYMENT, "shimmy", deployment()), (svc, "shimmy", service(8080))])
    assert wrong.urn.endswith("Service::shimmy") and "no port targets 8081" in wrong.message
    (miss,) = analyze_stack(
        engine, [(DEPLOYMENT, "shimmy", deployment()), (svc, "s", service(selector={"app": "x"}))]
    )
    assert "no Service selects" in miss.message


def test_stack_rule_defers_a_selector_unknown_at_preview():
    svc = service()
    svc["spec"]["selector"] = UNKNOWN
    (pending,) = analyze_stack(
        analyzer(), [(DEPLOYMENT, "shimmy", deployment()), ("kubernetes:core/v1:Service", "s", svc)]
    )
    assert pending.level == "advisory" and "checked at update" in pending.message


REMEDIABLE = [
    c
    for c in MISCONFIGURED
    if {rule for rule, _ in c.expected} <= set(REMEDIATE) and c.id != "shell-wrapper-without-backend"
]


@pytest.mark.parametrize("case", REMEDIABLE, ids=lambda c: c.id)
def test_remediated_corpus_workload_passes_every_mandatory_rule(case):
    r = case.resource()
    fixed_by, fixed = remediate(analyzer(REMEDIATE), r.type, r.name, r.props)
    assert set(fixed_by) == {rule for rule, _ in case.expected}
    assert [d for d in analyze(analyzer(), r.type, r.name, fixed) if d.level == "mandatory"] == []
