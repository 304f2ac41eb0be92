"""cuda-image: the rule function on its own."""

import pytest
from shimmy_policy.props import UNKNOWN
from shimmy_policy.rule_types import Resource
from shimmy_policy.rules.cuda_image import RULE

from tests.policy.corpus.builders import image_build
from tests.policy.evaluate import rule_findings

IMAGE_TYPE = "docker:index/image:Image"


def findings(props, config=None, type_=IMAGE_TYPE):
    return rule_findings(RULE, Resource(type_, "shimmy-image", props), config)


@pytest.mark.parametrize(
    ("args", "ok"),
    [
        ({}, True),
        ({"SHIMMY_VERSION": "v1.4.2"}, True),
        ({"SHIMMY_VERSION": "1.4.1"}, False),
        ({"SHIMMY_VERSION": "2.0.0"}, False),
        ({"SHIMMY_VERSION": ""}, False),
        ({"CARGO_FEATURES": "gpu"}, True),
        ({"CARGO_FEATURES": ""}, False),
        ({"CUDA_ARCHITECTURES": "75;80;86-real"}, True),
        ({"CUDA_ARCHITECTURES": ""}, False),
        ({"CUDA_ARCHITECTURES": "sm_75"}, False),
        ({"ACCELERATOR": "cpu", "CARGO_FEATURES": "huggingface,llama"}, False),
    ],
)
def test_cuda_image_build_args(args, ok):
    assert (findings(image_build(**args)) == []) == ok


def test_cuda_image_accepts_the_cpu_profile_only_when_relaxed_and_ignores_other_images():
    cpu = image_build(ACCELERATOR="cpu", CARGO_FEATURES="huggingface,llama")
    assert findings(cpu, {"allowCpu": True}) == []
    web = {"imageName": "registry.example.com/web:1", "build": {"args": {"NODE_ENV": "production"}}}
    assert findings(web) == []


def test_docker_build_images_are_read_from_tags_and_build_args():
    props = {"tags": ["registry.example.com/ml/shimmy:dev"], "buildArgs": image_build()["build"]["args"]}
    assert findings(props, type_="docker-build:index:Image") == []
    props["buildArgs"]["SHIMMY_VERSION"] = "2.2.0"
    (f,) = findings(props, type_="docker-build:index:Image")
    assert "shimmy 2.2.0 has no CUDA build (only 1.4.2 to 1.9.0" in f.message


def test_cuda_image_defers_build_args_unknown_at_preview():
    (f,) = findings(image_build(SHIMMY_VERSION=UNKNOWN))
    assert f.rule == "cuda-image" and f.deferred
