"""bind-address: the rule function on its own."""

import pytest
from shimmy_policy.props import UNKNOWN
from shimmy_policy.rules.bind_address import RULE

from tests.policy.corpus import resource
from tests.policy.corpus.builders import GATE, deployment, gated_deployment
from tests.policy.evaluate import rule_findings

FLAGS = ["--gpu-backend", "cuda", "--model-path", "/models/a.gguf"]


def messages(**container):
    return [f.message for f in rule_findings(RULE, resource(deployment(**container)))]


@pytest.mark.parametrize(
    ("bind", "problem", "fix"),
    [
        ([], "no --bind flag: shimmy listens on 127.0.0.1:11435", "add `--bind 0.0.0.0:8081`"),
        (["--bind", "auto"], "--bind auto listens on 127.0.0.1 only", "use `--bind 0.0.0.0:8081`"),
        (["--bind", "127.0.0.1:8081"], "--bind 127.0.0.1:8081 listens on 127.0.0.1 only", "0.0.0.0:8081"),
        (["--bind", "0.0.0.0:x"], "--bind 0.0.0.0:x has no valid port", "use `--bind 0.0.0.0:8081`"),
        (["--bind", "0.0.0.0:9000"], "not a declared containerPort (declared: 8081)", "containerPort: 9000"),
        (["--bind", "[::]:8081", "--bind", "[::]:8081"], "--bind is given 2 times", "keep exactly one"),
    ],
)
def test_each_problem_names_the_container_and_the_fix(bind, problem, fix):
    (message,) = messages(args=["serve", *bind, *FLAGS])
    assert message.startswith('Deployment "shimmy" container "shimmy": ') and problem in message
    assert fix in message.split("Fix: ")[1]


def test_the_env_vars_shimmy_does_not_read_are_named():
    env = [{"name": "SHIMMY_PORT", "value": "8081"}, {"name": "SHIMMY_HOST", "value": "0.0.0.0"}]
    (message,) = messages(args=["serve", *FLAGS], env=env)
    assert "(SHIMMY_HOST and SHIMMY_PORT are not read by shimmy)" in message


def test_a_command_line_unknown_at_preview_is_deferred():
    (f,) = rule_findings(RULE, resource(deployment(args=UNKNOWN)))
    assert f.deferred and "the command line is unknown during preview" in f.message


def test_behind_a_front_container_shimmy_may_listen_on_loopback_only():
    assert rule_findings(RULE, resource(gated_deployment())) == []
    # without the gate in the pod, the same loopback bind is unreachable
    alone = gated_deployment()
    alone["spec"]["template"]["spec"]["containers"].pop()
    (finding,) = rule_findings(RULE, resource(alone))
    assert "--bind 127.0.0.1:8082 listens on 127.0.0.1 only" in finding.message


def test_a_front_container_is_known_by_its_name_and_may_be_configured():
    proxy = {**GATE, "name": "envoy"}
    assert len(rule_findings(RULE, resource(gated_deployment(front=proxy)))) == 1
    assert rule_findings(RULE, resource(gated_deployment(front=proxy)), {"frontContainers": ["envoy"]}) == []
