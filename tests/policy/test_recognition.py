"""Which containers are shimmy: by name, image, pod label or command line; tools and paths are not."""

import pytest
from shimmy_policy.recognition import Recognition, image_repository
from shimmy_policy.rules import bind_address
from shimmy_policy.workloads import workload

from tests.policy.corpus import DIGEST, resource
from tests.policy.corpus.builders import deployment
from tests.policy.evaluate import rule_findings


def shimmy_names(props, recognition=None):
    w = workload(resource(props), recognition or Recognition())
    return [c.name for c in w.shimmy]


@pytest.mark.parametrize(
    ("command", "args"),
    [
        (["python", "serve.py"], ["--weights", "/opt/shimmy"]),
        ([], ["--config", "/etc/shimmy"]),
        (["sh", "-c", "cat /etc/shimmy && python serve.py"], []),
    ],
)
def test_a_path_named_shimmy_does_not_make_a_container_shimmy(command, args):
    props = deployment(name="app", image="registry.example.com/app@" + DIGEST, command=command, args=args)
    assert shimmy_names(props) == []


def test_image_repository_strips_tag_and_digest_but_not_a_registry_port():
    assert image_repository(f"reg:5000/ml/shimmy:1.9@{DIGEST}") == "reg:5000/ml/shimmy"
    assert image_repository("reg:5000/shimmy") == "reg:5000/shimmy"


def test_recognition_is_configurable_by_name_image_and_pod_label():
    plain = resource(deployment(name="server", image="registry.example.com/llm/server:1", args=["serve"]))
    assert rule_findings(bind_address.RULE, plain) == []  # nothing marks it as shimmy
    assert rule_findings(bind_address.RULE, plain, {"containerNames": ["server"]}) != []
    assert rule_findings(bind_address.RULE, plain, {"imagePattern": "llm/server$"}) != []
    assert rule_findings(bind_address.RULE, plain, {"podLabels": {"app.kubernetes.io/name": "shimmy"}}) != []


def test_a_container_running_shimmy_by_its_command_line_is_shimmy():
    props = deployment(
        name="server", image="registry.example.com/runtime@" + DIGEST, command=["/usr/bin/shimmy"]
    )
    assert shimmy_names(props) == ["server"]


def test_a_container_running_a_shimmy_tool_is_not_a_server():
    assert shimmy_names(deployment(args=["gpu-info"])) == []


def test_init_containers_are_never_shimmy():
    props = deployment()
    props["spec"]["template"]["spec"]["initContainers"] = [{"name": "shimmy", "image": "shimmy:latest"}]
    assert shimmy_names(props) == ["shimmy"]
    assert workload(resource(props), Recognition()).shimmy[0].path[-2:] == ("containers", 0)
