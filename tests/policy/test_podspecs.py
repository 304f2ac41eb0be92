"""Reading an object's pod specs: known and configured locations, the bounded search, each container once."""

import pytest
from shimmy_policy.locations import api_kind, extra_location
from shimmy_policy.podspecs import MAX_DEPTH, pod_specs, search
from shimmy_policy.props import UNKNOWN

from tests.policy.corpus.builders import shimmy_container
from tests.policy.corpus.kinds import kserve_model, ray_cluster


def test_a_kserve_model_container_is_one_container_of_the_predictor_pod():
    (pod,) = pod_specs(api_kind("kubernetes:serving.kserve.io/v1beta1:InferenceService"), kserve_model()).pods
    assert pod.path == ("spec", "predictor")
    assert [(path, name) for path, _, name in pod.containers] == [
        (("spec", "predictor", "model"), "kserve-container")
    ]


def test_the_search_finds_every_pod_spec_once_and_labels_it_from_its_template():
    found = pod_specs(api_kind("kubernetes:ray.io/v1:RayCluster"), ray_cluster())
    assert [pod.path for pod in found.pods] == [
        ("spec", "headGroupSpec", "template", "spec"),
        ("spec", "workerGroupSpecs", 0, "template", "spec"),
    ]
    assert found.pods[1].labels == {"app.kubernetes.io/name": "shimmy"} and not found.located


@pytest.mark.parametrize(
    "props",
    [
        {"spec": {"containers": ["shimmy", "sidecar"]}},  # not mappings
        {"spec": {"containers": [{"name": "shimmy"}]}},  # no image, command or args
        {"spec": {"containers": [{"image": "shimmy:1"}]}},  # no name
        {"spec": {"containers": []}},
        {"spec": {"containers": {"shimmy": {"name": "shimmy", "image": "shimmy:1"}}}},  # a mapping
        # a CustomResourceDefinition's schema describes containers; it runs none
        {
            "spec": {
                "versions": [
                    {"schema": {"openAPIV3Schema": {"properties": {"containers": {"type": "array"}}}}}
                ]
            }
        },
        {"metadata": {"annotations": {"x": {"containers": [{"name": "a", "image": "b"}]}}}},
    ],
)
def test_the_search_does_not_take_other_lists_for_containers(props):
    assert search(props) == []


def test_the_search_is_bounded_in_depth():
    shallow = {"containers": [shimmy_container()]}
    deep = shallow
    for _ in range(MAX_DEPTH + 1):
        deep = {"next": deep}
    assert search({"spec": shallow}) == [("spec",)]
    assert search(deep) == []


def test_a_configured_path_finds_what_the_search_cannot_see():
    # A runner whose containers take their image from elsewhere, and a single container field.
    props = {
        "spec": {"runner": {"containers": [{"name": "shimmy"}]}, "steps": [{"container": {"name": "x"}}]}
    }
    kind = api_kind("kubernetes:example.com/v1:Runner")
    assert pod_specs(kind, props).pods == ()
    extra = [extra_location({"kind": "Runner", "path": "spec.runner"})]
    extra.append(extra_location({"kind": "example.com/Runner", "containerPath": "spec.steps.*.container"}))
    found = pod_specs(kind, props, extra)
    assert [c[0] for pod in found.pods for c in pod.containers] == [
        ("spec", "runner", "containers", 0),
        ("spec", "steps", 0, "container"),
    ]
    assert found.located


def test_a_configured_path_that_repeats_a_known_one_counts_each_container_once():
    kind = api_kind("kubernetes:serving.kserve.io/v1beta1:InferenceService")
    extra = [extra_location({"kind": "InferenceService", "containerPath": "spec.predictor.model"})]
    containers = [c[0] for pod in pod_specs(kind, kserve_model(), extra).pods for c in pod.containers]
    assert containers == [("spec", "predictor", "model")]


def test_known_paths_unknown_during_preview_are_unreadable_and_the_search_reports_nothing():
    rollout = api_kind("kubernetes:argoproj.io/v1alpha1:Rollout")
    assert pod_specs(rollout, {"spec": {"template": UNKNOWN}}).unreadable == (("spec", "template"),)
    assert pod_specs(rollout, {"spec": UNKNOWN}).unreadable == (("spec",),)
    containers = {"spec": {"template": {"spec": {"containers": [UNKNOWN]}}}}
    assert pod_specs(rollout, containers).unreadable == (("spec", "template", "spec", "containers", 0),)
    other = api_kind("kubernetes:example.com/v1:Anything")
    assert pod_specs(other, {"spec": UNKNOWN}) == pod_specs(other, {})


def test_a_configured_single_container_does_not_hide_a_pod_spec_next_to_it():
    props = {"spec": {"server": {"name": "shimmy"}, "workers": {"containers": [shimmy_container()]}}}
    extra = [extra_location({"kind": "Runner", "containerPath": "spec.server"})]
    found = pod_specs(api_kind("kubernetes:example.com/v1:Runner"), props, extra)
    assert [c[0] for pod in found.pods for c in pod.containers] == [
        ("spec", "server"),
        ("spec", "workers", "containers", 0),
    ]
