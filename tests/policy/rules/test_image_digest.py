"""image-digest: the rule function on its own."""

from shimmy_policy.props import UNKNOWN
from shimmy_policy.rules.image_digest import RULE

from tests.policy.corpus import resource
from tests.policy.corpus.builders import deployment


def findings(image, config=None):
    return RULE.evaluate(resource(deployment(image=image)), config)


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
