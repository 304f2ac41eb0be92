"""image-digest: the rule function on its own."""

import json
from pathlib import Path

import pytest
from shimmy_policy.props import UNKNOWN
from shimmy_policy.rules.image_digest import RULE

from tests.policy.corpus import resource
from tests.policy.corpus.builders import deployment
from tests.policy.evaluate import rule_findings

ROOT = Path(__file__).resolve().parents[3]


def findings(image, config=None):
    return rule_findings(RULE, resource(deployment(image=image)), config)


def test_a_digest_passes_and_a_tag_is_refused_with_the_repository_to_pin():
    assert findings("registry.example.com/ml/shimmy@sha256:" + "a" * 64) == []
    (f,) = findings("registry.example.com/ml/shimmy:1.9.0")
    assert (
        "is not pinned by digest" in f.message
        and "`registry.example.com/ml/shimmy@sha256:<digest>`" in f.message
    )


def test_require_digest_false_accepts_a_tag_but_never_latest_or_none():
    assert findings("registry.example.com/ml/shimmy:v1", {"requireDigest": False}) == []
    assert len(findings("registry.example.com/ml/shimmy:latest", {"requireDigest": False})) == 1
    assert len(findings("registry.example.com/ml/shimmy", {"requireDigest": False})) == 1


def test_an_image_unknown_at_preview_is_deferred():
    (f,) = findings(UNKNOWN)
    assert f.deferred and "digest does not exist yet" in f.message


LOOPBACK_TAGS = ["127.0.0.1:5000/shimmy-gpu/shimmy:1.9.0-cuda", "localhost/shimmy:v1", "[::1]:5000/ml/x:v2"]


@pytest.mark.parametrize("image", LOOPBACK_TAGS)
def test_a_tag_from_a_loopback_registry_is_refused_even_where_tags_are_accepted(image):
    repository = image.rsplit(":", 1)[0]
    for config in (None, {"requireDigest": False}):
        (f,) = findings(image, config)
        assert f.message == (
            f'Deployment "shimmy" container "shimmy": image {image!r} is a tag from a loopback registry: '
            "on a cluster it is whatever the node runs on its own 127.0.0.1, and nothing pins which build "
            f"that is. Fix: use `{repository}@sha256:<digest>`, or on a local stack whose registry is this "
            "machine's set allowLoopbackTags in its policy config (policy/config/local.json)."
        )


@pytest.mark.parametrize("image", LOOPBACK_TAGS)
def test_the_local_stacks_policy_config_accepts_a_loopback_tag_and_nothing_more(image):
    local = json.loads((ROOT / "policy" / "config" / "local.json").read_text())["image-digest"]
    assert findings(image, local) == []
    assert len(findings(image.rsplit(":", 1)[0], local)) == 1  # no tag at all
    assert len(findings("registry.example.com/ml/shimmy:1.9.0", local)) == 1
    assert len(findings("127.0.0.2:5000/ml/shimmy:1.9.0", local)) == 1  # not loopback by this spelling
