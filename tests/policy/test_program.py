"""The shipped program, every stack: what it declares passes the pack with that stack's policy config."""

import json
from pathlib import Path

import pytest
from shimmy_policy.props import UNKNOWN
from shimmy_policy.registry import RULES
from shimmy_policy.rule_types import Resource

from tests.policy.evaluate import effective_level, evaluate, evaluate_stack
from tests.program import STACKS, declared_resources, run_program

CONFIG_DIR = Path(__file__).resolve().parents[2] / "policy" / "config"


def pack_config(stack: str) -> dict:
    """`policy/config/<stack>.json`, what `--policy-pack-config` passes for that stack (none: defaults)."""
    path = CONFIG_DIR / f"{stack}.json"
    return json.loads(path.read_text()) if path.exists() else {}


def findings(stack: str, resources) -> list:
    config = pack_config(stack)
    found = [f for r in resources for f in evaluate(r.type, r.name, r.props, config)]
    stack_resources = [Resource(r.type, r.name, r.props, f"urn:{r.type}::{r.name}") for r in resources]
    return found + evaluate_stack(stack_resources, config)


@pytest.mark.parametrize("stack", STACKS)
def test_shipped_program_has_no_finding_at_update(stack):
    resources = declared_resources(stack)
    assert any(r.type == "kubernetes:apps/v1:Deployment" for r in resources)
    assert any(r.type == "docker:index/image:Image" for r in resources)
    assert findings(stack, resources) == []


@pytest.mark.parametrize("stack", STACKS)
def test_shipped_program_at_preview_defers_only_the_digest(stack):
    """Preview of a first deployment: the image's repo_digest is unknown, everything else is known."""
    resources = declared_resources(stack)
    preview = []
    for r in resources:
        if r.type == "kubernetes:apps/v1:Deployment":
            props = json.loads(json.dumps(r.props))
            for c in props["spec"]["template"]["spec"]["containers"]:
                c["image"] = UNKNOWN
            r = type(r)(r.type, r.name, props)
        preview.append(r)
    got = findings(stack, preview)
    assert [(f.rule, f.deferred) for f in got] == [("image-digest", True)]


def test_only_the_cpu_profile_stack_relaxes_mandatory_rules():
    for stack in STACKS:
        config = pack_config(stack)
        relaxed = {
            name for name, value in config.items() if isinstance(value, dict) and value.get("allowCpu")
        }
        assert relaxed == ({"gpu-backend-flag", "cuda-image"} if stack == "local" else set())
        assert all(effective_level(rule, config) == rule.level for rule in RULES)
    # Without its policy config the local (cpu) stack is refused: the pack does catch the cpu profile.
    local = [f.rule for r in declared_resources("local") for f in evaluate(r.type, r.name, r.props)]
    assert sorted(set(local)) == ["cuda-image", "gpu-backend-flag"]


def test_the_gpu_verification_job_is_not_taken_for_shimmy():
    program = run_program("prod", {"verifyGpu": True})
    assert program.of_type("kubernetes:batch/v1:Job")
    assert findings("prod", program.resources) == []
