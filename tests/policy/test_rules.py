"""Rule details: recognition, command-line parsing, config knobs, advisory rules, unknown values."""

import pytest
from shimmy_policy.cmdline import invocation
from shimmy_policy.model import Resource
from shimmy_policy.props import UNKNOWN
from shimmy_policy.recognition import Recognition, image_repository
from shimmy_policy.registry import evaluate
from shimmy_policy.workloads import workload

from tests.policy.corpus import DIGEST
from tests.policy.test_pack import DEPLOYMENT, deployment

IMAGE_TYPE = "docker:index/image:Image"


def rules_hit(props, config=None, type_=DEPLOYMENT):
    return sorted({f.rule for f in evaluate(type_, "r", props, config)})


@pytest.mark.parametrize(
    ("command", "args", "tokens", "editable"),
    [
        ([], ["serve", "--bind", "0.0.0.0:1"], ("serve", "--bind", "0.0.0.0:1"), "args"),
        ([], ["shimmy", "serve"], ("serve",), "args"),
        (["shimmy", "serve"], [], ("serve",), "command"),
        (["tini", "--", "/bin/shimmy"], ["serve"], ("serve",), "args"),
        (["sh", "-c", "cd /m && exec shimmy serve --bind x; echo done"], [], ("serve", "--bind", "x"), None),
        (["/entrypoint.sh"], ["serve"], ("serve",), "args"),
        ([], [], (), None),
    ],
)
def test_the_arguments_shimmy_receives(command, args, tokens, editable):
    run = invocation(command, args, {}, {"shimmy"})
    assert (run.tokens, run.editable) == (tokens, editable)


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
    assert workload(Resource(DEPLOYMENT, "r", props), Recognition()).shimmy == ()


def test_flags_in_both_forms_and_the_subcommand_after_global_flags():
    run = invocation(
        [], ["--gpu-backend", "cuda", "--model-dirs", "/a;/b", "serve", "--bind=[::]:1"], {}, {"shimmy"}
    )
    assert run.subcommand == "serve"
    assert run.values("--gpu-backend") == ["cuda"] and run.values("--bind") == ["[::]:1"]


def test_image_repository_strips_tag_and_digest_but_not_a_registry_port():
    assert image_repository(f"reg:5000/ml/shimmy:1.9@{DIGEST}") == "reg:5000/ml/shimmy"
    assert image_repository("reg:5000/shimmy") == "reg:5000/shimmy"


def test_recognition_is_configurable_by_name_image_and_pod_label():
    plain = deployment(name="server", image="registry.example.com/llm/server:1", args=["serve"])
    assert rules_hit(plain) == []  # nothing marks it as shimmy
    assert "bind-address" in rules_hit(plain, {"bind-address": {"containerNames": ["server"]}})
    assert "bind-address" in rules_hit(plain, {"bind-address": {"imagePattern": "llm/server$"}})
    labelled = {"bind-address": {"podLabels": {"app.kubernetes.io/name": "shimmy"}}}
    assert "bind-address" in rules_hit(plain, labelled)


def test_a_container_running_a_shimmy_tool_is_not_a_server():
    w = workload(Resource(DEPLOYMENT, "r", deployment(args=["gpu-info"])), Recognition())
    assert w is not None and w.shimmy == ()


def test_mig_resource_names_are_configurable():
    mig = deployment(resources={"limits": {"nvidia.com/mig-1g.10gb": 1}})
    assert rules_hit(mig) == ["gpu-resource"]
    assert rules_hit(mig, {"gpu-resource": {"resourceNames": ["nvidia.com/mig-1g.10gb"]}}) == []


def test_gpu_counts_as_the_engine_sends_numbers():
    assert rules_hit(deployment(resources={"limits": {"nvidia.com/gpu": 1.0}})) == []
    assert rules_hit(deployment(resources={"limits": {"nvidia.com/gpu": "500m"}})) == ["gpu-resource"]


def test_the_cpu_profile_passes_only_where_the_stack_relaxes_it():
    cpu = deployment(
        args=["serve", "--bind", "0.0.0.0:8081", "--gpu-backend", "cpu", "--model-path", "/m/a.gguf"]
    )
    assert rules_hit(cpu) == ["gpu-backend-flag"]
    assert rules_hit(cpu, {"gpu-backend-flag": {"allowCpu": True}}) == []
    auto = deployment(args=["serve", "--bind", "0.0.0.0:8081", "--gpu-backend", "auto"])
    assert rules_hit(auto, {"gpu-backend-flag": {"allowCpu": True}}) == ["gpu-backend-flag"]


def image(**args):
    build = {"ACCELERATOR": "cuda", "SHIMMY_VERSION": "1.9.0", "CARGO_FEATURES": "huggingface,llama-cuda"}
    build["CUDA_ARCHITECTURES"] = "75"
    build.update(args)
    return {
        "imageName": "registry.example.com/ml/shimmy:t",
        "build": {"args": {k: v for k, v in build.items() if v}},
    }


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
    assert rules_hit(image(**args), type_=IMAGE_TYPE) == ([] if ok else ["cuda-image"])


def test_cuda_image_accepts_the_cpu_profile_only_when_relaxed_and_ignores_other_images():
    cpu = image(ACCELERATOR="cpu", CARGO_FEATURES="huggingface,llama")
    assert rules_hit(cpu, {"cuda-image": {"allowCpu": True}}, IMAGE_TYPE) == []
    assert rules_hit(cpu, {"cuda-image": {"allowCpu": True}, "gpu-backend-flag": {}}, IMAGE_TYPE) == []
    web = {"imageName": "registry.example.com/web:1", "build": {"args": {"NODE_ENV": "production"}}}
    assert rules_hit(web, type_=IMAGE_TYPE) == []


def test_cuda_image_defers_build_args_unknown_at_preview():
    (f,) = evaluate(IMAGE_TYPE, "img", image(SHIMMY_VERSION=UNKNOWN))
    assert f.rule == "cuda-image" and f.deferred


def test_driver_capabilities_all_or_compute_pass_and_value_from_is_refused():
    for value, ok in [("all", True), ("compute,utility", True), ("utility,graphics", False)]:
        props = deployment(env=[{"name": "NVIDIA_DRIVER_CAPABILITIES", "value": value}])
        assert rules_hit(props) == ([] if ok else ["driver-capabilities"])
    from_map = deployment(env=[{"name": "NVIDIA_DRIVER_CAPABILITIES", "valueFrom": {"configMapKeyRef": {}}}])
    assert rules_hit(from_map) == ["driver-capabilities"]


def test_model_path_given_twice():
    twice = deployment(
        args=["serve", "--bind", "0.0.0.0:8081", "--gpu-backend", "cuda"] + ["--model-path", "/m/a.gguf"] * 2
    )
    assert rules_hit(twice) == ["model-flag"]


# --- advisory rules -------------------------------------------------------------------------------


def test_probes_missing_or_on_metrics():
    assert rules_hit(deployment(readinessProbe=None)) == ["probes"]
    metrics = deployment(livenessProbe={"httpGet": {"path": "/metrics", "port": "http"}})
    assert rules_hit(metrics) == ["probes"]


def test_security_context_must_be_restricted_at_pod_or_container_level():
    assert rules_hit(deployment(securityContext={})) == ["security-context"]
    props = deployment(securityContext={"allowPrivilegeEscalation": False, "capabilities": {"drop": ["ALL"]}})
    props["spec"]["template"]["spec"]["securityContext"] = {
        "runAsNonRoot": True,
        "seccompProfile": {"type": "RuntimeDefault"},
    }
    assert rules_hit(props) == []


@pytest.mark.parametrize(
    ("strategy", "ok"),
    [
        (None, False),  # the default RollingUpdate surges 25%
        ({"type": "RollingUpdate", "rollingUpdate": {"maxSurge": "0%", "maxUnavailable": 1}}, True),
        ({"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 1}}, False),
        ({"type": "Recreate"}, True),
    ],
)
def test_rollout_strategy(strategy, ok):
    props = deployment()
    props["spec"].pop("strategy")
    if strategy:
        props["spec"]["strategy"] = strategy
    assert rules_hit(props) == ([] if ok else ["rollout-strategy"])


def test_rollout_strategy_of_a_daemonset_with_surge():
    props = deployment()
    props["spec"] = {**props["spec"], "updateStrategy": {"rollingUpdate": {"maxSurge": 1}}}
    assert rules_hit(props, type_="kubernetes:apps/v1:DaemonSet") == ["rollout-strategy"]


def test_gpu_nodes_need_the_gpu_taint_tolerated():
    props = deployment()
    pod = props["spec"]["template"]["spec"]
    pod["nodeSelector"] = {"nvidia.com/gpu.product": "Tesla-T4"}
    assert rules_hit(props) == ["gpu-toleration"]
    pod["tolerations"] = [{"key": "dedicated", "operator": "Exists"}]
    assert rules_hit(props) == ["gpu-toleration"]
    pod["tolerations"].append(
        {"key": "nvidia.com/gpu", "operator": "Equal", "value": "present", "effect": "NoSchedule"}
    )
    assert rules_hit(props) == []


def test_rules_can_be_disabled_per_stack():
    assert rules_hit(deployment(readinessProbe=None), {"probes": "disabled"}) == []
