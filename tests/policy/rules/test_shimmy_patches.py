"""shimmy-patches: the rule function on its own."""

import pytest
import shimmy_facts as facts
from shimmy_policy.props import UNKNOWN
from shimmy_policy.rule_types import Resource
from shimmy_policy.rules.shimmy_patches import RULE

from tests.policy.corpus.builders import image_build
from tests.policy.evaluate import rule_findings

IMAGE_TYPE = "docker:index/image:Image"
WHERE = "Image 'shimmy-image' (registry.example.com/ml/shimmy:t)"


def messages(props, type_=IMAGE_TYPE):
    return [f.message for f in rule_findings(RULE, Resource(type_, "shimmy-image", props), None)]


def test_a_build_with_every_patch_passes_whatever_order_or_spacing_it_names_them():
    assert messages(image_build()) == []
    shuffled = " , ".join(reversed(facts.PATCH_NAMES))
    assert messages(image_build(SHIMMY_PATCHES=shuffled)) == []


def test_a_build_as_published_names_every_patch_and_what_it_costs():
    found = messages(image_build(SHIMMY_PATCHES=""))
    assert len(found) == len(facts.PATCH_NAMES)
    assert found[1] == (
        f"{WHERE}: shimmy 1.9.0 is built without the resident-model patch: "
        f"{facts.PATCH_COSTS['resident-model']}. "
        "Fix: add resident-model to the stack's shimmyPatches (docs/patches.md)."
    )


@pytest.mark.parametrize("left_out", facts.PATCH_NAMES)
def test_a_patch_left_out_is_named_and_only_it(left_out):
    applied = ",".join(name for name in facts.PATCH_NAMES if name != left_out)
    (found,) = messages(image_build(SHIMMY_PATCHES=applied))
    assert f"without the {left_out} patch" in found


def test_a_name_that_merely_contains_a_patch_name_does_not_count():
    found = messages(
        image_build(SHIMMY_PATCHES="sampler-v2,resident-model,graceful-shutdown,client-disconnect")
    )
    assert len(found) == 1 and "without the sampler patch" in found[0]


def test_other_releases_and_other_images_are_not_its_business():
    assert messages(image_build(SHIMMY_VERSION="1.8.2", SHIMMY_PATCHES="")) == []
    web = {"imageName": "registry.example.com/web:1", "build": {"args": {"NODE_ENV": "production"}}}
    assert messages(web) == []


def test_unknown_build_args_wait_for_the_update():
    props = image_build()
    props["build"]["args"]["SHIMMY_PATCHES"] = UNKNOWN
    (finding,) = rule_findings(RULE, Resource(IMAGE_TYPE, "shimmy-image", props), None)
    assert finding.deferred


def test_docker_build_images_are_read_too():
    props = {"tags": ["registry.example.com/ml/shimmy:t"], "buildArgs": {"SHIMMY_VERSION": "1.9.0"}}
    assert len(messages(props, "docker-build:index:Image")) == len(facts.PATCH_NAMES)
