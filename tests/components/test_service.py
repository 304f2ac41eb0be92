"""What GpuInferenceService declares for every shipped stack, as the engine receives it."""

import ast
import json
import sys

from shimmy_gpu import rollout
from tests.program import ROOT, Program, run_program

DEPLOYMENT = "kubernetes:apps/v1:Deployment"
SERVICE = "kubernetes:core/v1:Service"
PVC = "kubernetes:core/v1:PersistentVolumeClaim"


def shimmy_container(program: Program) -> dict:
    pod = program.one(DEPLOYMENT).props["spec"]["template"]["spec"]
    (container,) = [c for c in pod["containers"] if c["name"] == "shimmy"]
    return container


def test_deployment_limits_the_gpu(program):
    limits = shimmy_container(program)["resources"]["limits"]
    assert int(limits["nvidia.com/gpu"]) >= 1
    assert "nvidia.com/gpu" not in shimmy_container(program)["resources"].get("requests", {})


def test_deployment_starts_shimmy_with_cuda(program):
    args = shimmy_container(program)["args"]
    backend = args[args.index("--gpu-backend") + 1]
    expected = "cpu" if program.stack == "local" else "cuda"
    assert backend == expected


def test_bind_port_container_port_and_service_target_agree(program):
    pod = program.one(DEPLOYMENT).props["spec"]["template"]["spec"]
    args = shimmy_container(program)["args"]
    host, port = args[args.index("--bind") + 1].rsplit(":", 1)
    (gate,) = [c for c in pod["containers"] if c["name"] == "shimmy-gate"]
    gate_port, metrics_port = gate["ports"]
    assert (host, int(port)) == ("127.0.0.1", gate_port["containerPort"] + 1)
    assert gate["command"][gate["command"].index("--upstream") + 1] == f"{host}:{port}"
    (service_port,) = program.one(SERVICE).props["spec"]["ports"]
    assert service_port["targetPort"] == gate_port["containerPort"]
    # the metrics port is the gate's own, and clients are never sent there
    assert metrics_port["name"] == "metrics" and metrics_port["containerPort"] != service_port["targetPort"]
    listen = gate["command"][gate["command"].index("--metrics-listen") + 1]
    assert listen == f"0.0.0.0:{int(metrics_port['containerPort'])}"


def test_service_selects_exactly_these_pods(program):
    selector = program.one(SERVICE).props["spec"]["selector"]
    deployment = program.one(DEPLOYMENT).props["spec"]
    assert deployment["selector"]["matchLabels"] == selector
    assert selector.items() <= deployment["template"]["metadata"]["labels"].items()


def test_image_is_pinned_by_the_built_digest(program):
    image = shimmy_container(program)["image"]
    assert image == program.exports["image"]
    assert "@sha256:" in image
    assert image.startswith(program.one("docker:index/image:Image").props["imageName"].rsplit(":", 1)[0])


def test_pod_is_restricted_and_rolls_out_by_recreate(program):
    deployment = program.one(DEPLOYMENT).props["spec"]
    assert deployment["strategy"] == {"type": "Recreate"}
    pod = deployment["template"]["spec"]
    assert pod["securityContext"]["runAsNonRoot"] is True
    for container in pod["containers"] + pod.get("initContainers", []):
        assert container["securityContext"]["readOnlyRootFilesystem"] is True
        assert container["securityContext"]["capabilities"] == {"drop": ["ALL"]}
    writable = {m["mountPath"] for m in shimmy_container(program)["volumeMounts"] if not m.get("readOnly")}
    assert writable == {"/tmp"}


def test_probes_use_health(program):
    container = shimmy_container(program)
    for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
        assert container[probe]["httpGet"]["path"] == "/health"


def test_every_probe_reaches_a_port_kubelet_can_resolve(program):
    # A named port resolves only among the probed container's own ports (kubelet); a number must be
    # one the pod listens on.
    pod = program.one(DEPLOYMENT).props["spec"]["template"]["spec"]
    numbers = {p["containerPort"] for c in pod["containers"] for p in c.get("ports", [])}
    for container in pod["containers"]:
        names = {p["name"] for p in container.get("ports", [])}
        for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
            check = container.get(probe, {})
            port = (check.get("httpGet") or check.get("tcpSocket") or {}).get("port")
            if port is not None:
                assert port in names or port in numbers, (container["name"], probe, port)


def test_namespace_enforces_restricted_pod_security(program):
    labels = program.one("kubernetes:core/v1:Namespace").props["metadata"]["labels"]
    assert labels["pod-security.kubernetes.io/enforce"] == "restricted"


def test_prod_targets_t4_nodes():
    pod = run_program("prod").one(DEPLOYMENT).props["spec"]["template"]["spec"]
    assert pod["nodeSelector"] == {"nvidia.com/gpu.product": "Tesla-T4"}
    assert {"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"} in pod["tolerations"]
    assert pod["runtimeClassName"] == "nvidia"


def test_downloaded_model_gets_a_claim_and_a_fetcher():
    program = run_program("prod")
    claim = program.one(PVC).props
    assert claim["spec"]["resources"]["requests"]["storage"] == "8Gi"
    pod = program.one(DEPLOYMENT).props["spec"]["template"]["spec"]
    assert [c["name"] for c in pod["initContainers"]] == ["fetch-model"]


def test_existing_claim_is_mounted_not_created_and_its_model_checked():
    program = run_program("prod", {"modelSource": "pvc", "modelExistingClaim": "llm-models", "replicas": 3})
    assert program.of_type(PVC) == []
    pod = program.one(DEPLOYMENT).props["spec"]["template"]["spec"]
    assert {"name": "models", "persistentVolumeClaim": {"claimName": "llm-models"}} in pod["volumes"]
    assert [c["name"] for c in pod["initContainers"]] == ["verify-model"]
    assert program.one(DEPLOYMENT).props["spec"]["replicas"] == 3


def test_exports(program):
    exports = program.exports
    assert exports["commandLine"].startswith("shimmy serve --bind 127.0.0.1:")
    assert exports["url"].endswith(
        f".svc.cluster.local:{int(program.one(SERVICE).props['spec']['ports'][0]['port'])}"
    )
    assert "/api/generate" in exports["smokeTest"]
    assert exports["namespace"] == program.one("kubernetes:core/v1:Namespace").props["metadata"]["name"]


def test_shimmy_drains_within_the_grace_period(program):
    # The graceful-shutdown patch handles SIGTERM as PID 1 and stops within its timeout.
    spec = program.one(DEPLOYMENT).props["spec"]["template"]["spec"]
    assert "shareProcessNamespace" not in spec
    assert spec["terminationGracePeriodSeconds"] > 30  # shutdownTimeoutSeconds' default


def test_shimmy_as_published_is_not_pid_1():
    # As PID 1 shimmy 1.9.0 ignores SIGTERM (seen running the image): each stop took the grace period.
    spec = run_program("prod", {"shimmyPatches": []}).one(DEPLOYMENT).props["spec"]["template"]["spec"]
    assert spec["shareProcessNamespace"] is True


NETWORK_POLICY = "kubernetes:networking.k8s.io/v1:NetworkPolicy"


def test_only_the_stacks_clients_may_reach_shimmys_port(program):
    policy = program.one(NETWORK_POLICY).props["spec"]
    pod_labels = program.one(DEPLOYMENT).props["spec"]["template"]["metadata"]["labels"]
    assert policy["podSelector"]["matchLabels"].items() <= pod_labels.items()
    assert policy["policyTypes"] == ["Ingress"]
    rule, metrics = policy["ingress"]
    assert rule["ports"] == [{"protocol": "TCP", "port": 8081}]
    # This namespace's pods only; local admits only its labelled clients (the smokeTest pod).
    clients = {"shimmy-gpu/client": "true"} if program.stack == "local" else {}
    assert rule["from"] == [{"podSelector": {"matchLabels": clients}}]
    # the metrics port: the monitoring namespace's pods only
    assert metrics["ports"] == [{"protocol": "TCP", "port": 9464}]
    assert metrics["from"] == [
        {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "monitoring"}}}
    ]


def test_without_monitoring_nothing_may_reach_the_metrics_port():
    (rule,) = run_program("prod", {"monitoring": "none"}).one(NETWORK_POLICY).props["spec"]["ingress"]
    assert rule["ports"] == [{"protocol": "TCP", "port": 8081}]


def test_client_namespaces_labels_and_cidrs_widen_the_policy_and_nothing_else_does():
    overrides = {
        "clientNamespaces": ["apps"],
        "clientPodLabels": {"shimmy-client": "true"},
        "serviceType": "LoadBalancer",
        "allowExternalService": True,
        "clientCidrs": ["10.0.0.0/8"],
        "verifyGpu": True,
    }
    rule, _metrics = run_program("prod", overrides).one(NETWORK_POLICY).props["spec"]["ingress"]
    clients = {"matchLabels": {"shimmy-client": "true"}}
    namespaces = {
        "matchExpressions": [{"key": "kubernetes.io/metadata.name", "operator": "In", "values": ["apps"]}]
    }
    verification = {
        "app.kubernetes.io/component": "gpu-verification",
        "app.kubernetes.io/instance": "shimmy-prod",
    }
    assert rule["from"] == [
        {"podSelector": clients},
        {"namespaceSelector": namespaces, "podSelector": clients},
        {"podSelector": {"matchLabels": verification}},
        {"ipBlock": {"cidr": "10.0.0.0/8"}},
    ]


def test_the_network_policy_can_be_left_to_the_cluster():
    assert run_program("prod", {"networkPolicy": False}).of_type(NETWORK_POLICY) == []


def shipped_imports(data: dict[str, str]) -> set[str]:
    """The top-level modules the shipped files import."""
    names = set()
    for text in data.values():
        for node in ast.walk(ast.parse(text)):
            if isinstance(node, ast.Import):
                names |= {alias.name.split(".")[0] for alias in node.names}
            elif isinstance(node, ast.ImportFrom):
                names.add((node.module or "").split(".")[0])
    return names


def test_the_gate_runs_the_tested_files_byte_for_byte():
    program = run_program("prod")
    (config_map,) = [c for c in program.of_type("kubernetes:core/v1:ConfigMap") if c.name == "shimmy-gate"]
    data = config_map.props["data"]
    folder = ROOT / "shimmy_gpu" / "pod"
    assert data == {name: (folder / name).read_bytes().decode() for name in data}
    assert sorted(data) == ["gate.py", "gate_http.py", "gate_metrics.py", "gate_series.py"]
    # Only the pod's own files: nothing of the program that declares them, and nothing it needs.
    siblings = {name.removesuffix(".py") for name in data}
    assert shipped_imports(data) - siblings <= set(sys.stdlib_module_names)
    pod = program.one(DEPLOYMENT).props["spec"]["template"]["spec"]
    (volume,) = [v for v in pod["volumes"] if v["name"] == "gate"]
    assert volume["configMap"]["name"].startswith(config_map.name)  # its generated name


def test_without_the_gate_there_is_no_gate_container_or_script():
    program = run_program("prod", {"requestGate": False, "monitoring": "none"})
    assert program.of_type("kubernetes:core/v1:ConfigMap") == []
    pod = program.one(DEPLOYMENT).props["spec"]["template"]["spec"]
    assert [c["name"] for c in pod["containers"]] == ["shimmy"]


def test_previews_against_a_reachable_cluster_are_the_api_servers_dry_run(program):
    # pulumi-kubernetes previews a create as a server-side dry-run apply only in SSA mode; the
    # program sets it rather than trusting PULUMI_K8S_ENABLE_SERVER_SIDE_APPLY (docs/ci-and-previews.md).
    (provider,) = program.of_type("pulumi:providers:kubernetes")
    assert provider.props["enableServerSideApply"] == "true"


PATCH = "kubernetes:apps/v1:DeploymentPatch"


def template_digest(program: Program) -> str:
    return program.one(PATCH).props["metadata"]["annotations"][rollout.TEMPLATE_ANNOTATION]


def test_up_waits_for_every_rollout_on_a_patch_that_only_annotates_the_deployment(program):
    deployment, patch = program.one(DEPLOYMENT).props, program.one(PATCH).props
    assert {k: patch["metadata"][k] for k in ("name", "namespace")} == {
        k: deployment["metadata"][k] for k in ("name", "namespace")
    }
    assert set(patch) == {"apiVersion", "kind", "metadata"} and set(patch["metadata"]) == {
        "name",
        "namespace",
        "annotations",
    }
    wait = json.loads(patch["metadata"]["annotations"]["pulumi.com/waitFor"])
    assert wait == json.loads(rollout.finished(int(deployment["spec"]["replicas"])))
    assert len(template_digest(program)) == 64


def test_the_rollout_wait_changes_with_the_pod_template_and_nothing_else():
    base = template_digest(run_program("prod"))
    python = "docker.io/library/python:3.12-slim@sha256:" + "b" * 64
    assert template_digest(run_program("prod", {"pythonImage": python})) != base
    assert template_digest(run_program("prod", {"shutdownTimeoutSeconds": 45})) != base
    assert template_digest(run_program("prod", {"servicePort": 9000})) == base


def test_rendered_manifests_carry_no_patch():
    assert run_program("prod", {"renderManifestsTo": "rendered/prod"}).of_type(PATCH) == []
