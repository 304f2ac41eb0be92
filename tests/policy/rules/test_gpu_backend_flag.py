"""gpu-backend-flag: the rule function on its own."""

import pytest
from shimmy_policy.rule_types import Resource
from shimmy_policy.rules.gpu_backend_flag import RULE

from tests.policy.corpus import resource
from tests.policy.corpus.builders import DEPLOYMENT, deployment
from tests.policy.evaluate import rule_findings

SERVE = ["serve", "--bind", "0.0.0.0:8081", "--model-path", "/models/a.gguf"]


def messages(props, config=None):
    return [f.message for f in rule_findings(RULE, resource(props), config)]


@pytest.mark.parametrize(
    ("flags", "problem"),
    [
        ([], "no --gpu-backend flag: shimmy picks auto"),
        (["--gpu-backend", "auto"], "--gpu-backend auto silently runs on the CPU"),
        (["--gpu-backend=cpu"], "--gpu-backend cpu never uses the GPU (allowCpu relaxes this"),
        (["--gpu-backend", "opencl"], "--gpu-backend opencl is not compiled into the CUDA build"),
        (["--gpu-backend", "rocm"], "--gpu-backend 'rocm' is not a backend shimmy knows"),
        (["--gpu-backend"], "--gpu-backend has no value"),
    ],
)
def test_each_problem_names_the_container_and_the_fix(flags, problem):
    (message,) = messages(deployment(args=[*SERVE, *flags]))
    assert message.startswith('Deployment "shimmy" container "shimmy": ') and problem in message
    assert "Fix: " in message and "`--gpu-backend cuda`" in message


def test_the_env_var_shimmy_does_not_read_is_named():
    (message,) = messages(deployment(args=SERVE, env=[{"name": "SHIMMY_GPU_BACKEND", "value": "cuda"}]))
    assert "(shimmy 1.x does not read SHIMMY_GPU_BACKEND)" in message


def test_the_cpu_profile_passes_only_where_the_stack_relaxes_it():
    cpu = deployment(args=[*SERVE, "--gpu-backend", "cpu"])
    assert len(messages(cpu)) == 1
    assert messages(cpu, {"allowCpu": True}) == []
    auto = deployment(args=[*SERVE, "--gpu-backend", "auto"])
    assert len(messages(auto, {"allowCpu": True})) == 1


def test_remediation_appends_the_flag_where_shimmys_arguments_are():
    props = deployment(command=["tini", "--", "shimmy"], args=[*SERVE, "--gpu-backend=auto"])
    fixed = RULE.remediate(Resource(DEPLOYMENT, "shimmy", props), RULE.settings(None))
    c = fixed["spec"]["template"]["spec"]["containers"][0]
    assert c["command"] == ["tini", "--", "shimmy"] and c["args"] == [*SERVE, "--gpu-backend", "cuda"]
