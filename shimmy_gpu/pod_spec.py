"""Pure builders for the shimmy pod: its command line, containers, probes and the model's init step.

Everything returns plain values (snake_case dicts as pulumi-kubernetes accepts them), so the tests
and the policy pack reason about exactly what the component declares.
"""

from __future__ import annotations

from typing import Any

import shimmy_facts as facts

from shimmy_gpu import pod
from shimmy_gpu.pod import gate_series
from shimmy_gpu.settings import DeploymentSettings, ModelSettings, Toleration

NAME = "shimmy"  # Deployment and Service: stable names for DNS, kubectl and the smoke test
CONTAINER = "shimmy"
GATE_CONTAINER = "shimmy-gate"  # the policy pack's default front container
PORT_NAME = "http"
METRICS_PORT_NAME = "metrics"  # the gate's GET /metrics, never in the Service
RUN_AS = facts.RUNTIME_UID
# The namespace enforces what the pod already does: the "restricted" Pod Security Standard.
POD_SECURITY = {"pod-security.kubernetes.io/enforce": "restricted"}


def gpu_backend(settings: DeploymentSettings) -> str:
    """`--gpu-backend` value. Never `auto`: it silently falls back to CPU."""
    return "cuda" if settings.accelerator == "cuda" else "cpu"


def shimmy_bind(settings: DeploymentSettings) -> str:
    """Behind the gate shimmy listens on loopback only, so no request can go around the gate;
    without it, on every interface (its default `auto` is loopback: unreachable)."""
    port = settings.workload.port
    return f"127.0.0.1:{port + 1}" if settings.gate.enabled else f"0.0.0.0:{port}"


def shimmy_args(settings: DeploymentSettings) -> list[str]:
    """The container args (the image's ENTRYPOINT is `shimmy`). `--model-path` takes the GGUF file
    itself; given a folder shimmy starts and then fails at the first request."""
    return [
        facts.SERVE,
        "--bind",
        shimmy_bind(settings),
        "--gpu-backend",
        gpu_backend(settings),
        "--model-path",
        settings.model.path,
    ]


def app_labels(settings: DeploymentSettings) -> dict[str, str]:
    """Labels on every object; the first two also select the pods."""
    return {
        **selector_labels(settings),
        "app.kubernetes.io/part-of": "shimmy-gpu",
        "app.kubernetes.io/component": "inference",
        "app.kubernetes.io/version": settings.shimmy.version,
        "app.kubernetes.io/managed-by": "pulumi",
    }


def selector_labels(settings: DeploymentSettings) -> dict[str, str]:
    return {"app.kubernetes.io/name": "shimmy", "app.kubernetes.io/instance": f"shimmy-{settings.stack}"}


def resources(settings: DeploymentSettings) -> dict[str, Any]:
    """GPUs go in limits only: the device plugin takes requests equal to limits."""
    w = settings.workload
    return {
        "requests": {"cpu": w.cpu_request, "memory": w.memory_request},
        "limits": {"cpu": w.cpu_limit, "memory": w.memory_limit, w.gpu_resource: str(w.gpu_count)},
    }


# Who every container runs as, and the seccomp profile: set on the pod and on each container.
_RESTRICTED_IDENTITY = {
    "run_as_non_root": True,
    "run_as_user": RUN_AS,
    "run_as_group": RUN_AS,
    "seccomp_profile": {"type": "RuntimeDefault"},
}


def container_security_context() -> dict[str, Any]:
    """The Kubernetes "restricted" profile; GPU access needs none of what it forbids."""
    return {
        **_RESTRICTED_IDENTITY,
        "allow_privilege_escalation": False,
        "read_only_root_filesystem": True,
        "capabilities": {"drop": ["ALL"]},
    }


def pod_security_context() -> dict[str, Any]:
    # fs_group makes the model volume writable for the fetcher and readable for shimmy.
    return {**_RESTRICTED_IDENTITY, "fs_group": RUN_AS}


STARTUP_PERIOD_SECONDS = 10
# Seconds between SIGTERM's drain bound and the kubelet's SIGKILL: both processes' exit.
GRACE_MARGIN_SECONDS = 10
# The gate's readiness fails at SIGTERM; kubelet sees it within period x threshold, then the
# endpoint controller and every node's kube-proxy drop the pod (about a second each). Until then the
# Service still routes new connections to the pod, so the gate keeps answering them (503) that long.
GATE_READINESS_PERIOD_SECONDS = 1
GATE_READINESS_FAILURES = 2
ENDPOINT_GRACE_SECONDS = GATE_READINESS_PERIOD_SECONDS * GATE_READINESS_FAILURES + 4


def probes(settings: DeploymentSettings) -> dict[str, Any]:
    """Startup, readiness and liveness ask /health. With resident-model shimmy loads the model
    before it listens, so startup means "model on the device", and decodes off the workers that
    answer /health, so a pod silent for 30 s is restarted. As published, /health waits whenever
    every worker holds a generation: liveness then tolerates 5 minutes, so a busy pod is not killed
    for being busy. Readiness takes a silent pod out of rotation within 30 s either way."""
    # kubelet resolves a named port in the probed container only; behind the gate shimmy listens on
    # the pod's loopback, so its probes go to the gate's port, which passes GET /health through.
    port = settings.workload.port if settings.gate.enabled else PORT_NAME
    check = {"http_get": {"path": facts.HEALTH_PATH, "port": port}}
    startup_failures = -(-settings.workload.startup_timeout_seconds // STARTUP_PERIOD_SECONDS)
    if settings.shimmy.patched("resident-model"):
        liveness = {**check, "timeout_seconds": 5, "period_seconds": 10, "failure_threshold": 3}
    else:
        liveness = {**check, "timeout_seconds": 10, "period_seconds": 30, "failure_threshold": 10}
    return {
        "startup_probe": {
            **check,
            "timeout_seconds": 5,
            "period_seconds": STARTUP_PERIOD_SECONDS,
            "failure_threshold": startup_failures,
        },
        "readiness_probe": {**check, "timeout_seconds": 5, "period_seconds": 10, "failure_threshold": 3},
        "liveness_probe": liveness,
    }


def model_init(model: ModelSettings) -> dict[str, Any] | None:
    """The init container that guarantees the model file (None: a claim without a sha256 to check).
    A download is https only, redirects too, and the file is put in place only once its sha256
    matches; a token goes to curl on stdin, never on a command line."""
    downloads = model.source != "pvc"
    if not downloads and not model.sha256:
        return None
    env = [
        {"name": "MODEL_PATH", "value": model.path},
        {"name": "MODEL_SHA256", "value": model.sha256},
    ]
    if downloads:
        env.insert(0, {"name": "MODEL_URL", "value": model.download_url})
    if model.auth_secret:
        env.append(
            {
                "name": "MODEL_TOKEN",
                "value_from": {"secret_key_ref": {"name": model.auth_secret, "key": model.auth_secret_key}},
            }
        )
    return {
        "name": "fetch-model" if downloads else "verify-model",
        "image": model.fetcher_image,
        "command": ["sh", "-c", pod.text(pod.FETCH_MODEL if downloads else pod.VERIFY_MODEL)],
        "env": env,
        # readOnly only where it is true: the API server drops a false one, which Pulumi would then
        # show in every later diff of the Deployment.
        "volume_mounts": [
            {"name": "models", "mount_path": model.mount_path, **({} if downloads else {"read_only": True})}
        ],
        "resources": {
            "requests": {"cpu": "100m", "memory": "64Mi"},
            "limits": {"cpu": "1", "memory": "256Mi"},
        },
        "security_context": container_security_context(),
    }


def shimmy_env(settings: DeploymentSettings) -> list[dict[str, str]]:
    shimmy = settings.shimmy
    env = [
        {"name": "RUST_LOG", "value": settings.workload.rust_log},
        # shimmy's discovery and libraries may write under $HOME; the root FS is read-only.
        {"name": "HOME", "value": "/tmp"},
    ]
    if shimmy.patched("resident-model"):
        env.append({"name": facts.ENV_MAX_PARALLEL, "value": str(settings.gate.limit)})
    if shimmy.patched("graceful-shutdown"):
        env.append(
            {"name": facts.ENV_SHUTDOWN_TIMEOUT, "value": str(settings.workload.shutdown_timeout_seconds)}
        )
    return env


def shimmy_container(settings: DeploymentSettings, image: Any) -> dict[str, Any]:
    container: dict[str, Any] = {
        "name": CONTAINER,
        "image": image,
        "args": shimmy_args(settings),
        "env": shimmy_env(settings),
        "resources": resources(settings),
        "volume_mounts": [
            {"name": "models", "mount_path": settings.model.mount_path, "read_only": True},
            {"name": "tmp", "mount_path": "/tmp"},
        ],
        "security_context": container_security_context(),
        **probes(settings),
    }
    if not settings.gate.enabled:
        container["ports"] = [
            {"name": PORT_NAME, "container_port": settings.workload.port, "protocol": "TCP"}
        ]
    return container


def gate_args(settings: DeploymentSettings) -> list[str]:
    gate = settings.gate
    args = [
        "python3",
        f"/gate/{pod.GATE[0]}",  # the ConfigMap's files, mounted as one folder
        "--listen",
        f"0.0.0.0:{settings.workload.port}",
        "--upstream",
        shimmy_bind(settings),
        "--limit",
        str(gate.limit),
        "--queue",
        str(gate.queue),
        "--queue-timeout",
        str(gate.queue_timeout_seconds),
        "--drain-timeout",
        str(settings.workload.shutdown_timeout_seconds),
        "--endpoint-grace",
        str(ENDPOINT_GRACE_SECONDS),
        "--metrics-listen",
        f"0.0.0.0:{settings.monitoring.metrics_port}",
    ]
    if settings.shimmy.patched("client-disconnect"):
        # shimmy stops a generation whose connection closes: the gate may close it for a client that left.
        args.append("--cancel-on-disconnect")
    for key, value in gate.request_defaults:
        args += ["--request-default", f"{key}={value}"]
    return args


def gate_container(settings: DeploymentSettings) -> dict[str, Any]:
    """The front door: at most `limit` generations reach shimmy; probes and GETs pass straight through."""
    return {
        "name": GATE_CONTAINER,
        "image": settings.gate.image,
        "command": gate_args(settings),
        "env": [{"name": "PYTHONDONTWRITEBYTECODE", "value": "1"}],
        "ports": [
            {"name": PORT_NAME, "container_port": settings.workload.port, "protocol": "TCP"},
            {
                "name": METRICS_PORT_NAME,
                "container_port": settings.monitoring.metrics_port,
                "protocol": "TCP",
            },
        ],
        "resources": {
            "requests": {"cpu": "100m", "memory": "64Mi"},
            "limits": {"cpu": "1", "memory": "256Mi"},
        },
        "volume_mounts": [{"name": "gate", "mount_path": "/gate", "read_only": True}],
        "security_context": container_security_context(),
        # The gate's own status page: it answers without asking shimmy (whose health readiness of the
        # shimmy container covers), and 503 from SIGTERM on, so the pod leaves the Service quickly.
        "readiness_probe": {
            "http_get": {"path": "/gate", "port": PORT_NAME},
            "timeout_seconds": 1,
            "period_seconds": GATE_READINESS_PERIOD_SECONDS,
            "failure_threshold": GATE_READINESS_FAILURES,
        },
        "liveness_probe": {"tcp_socket": {"port": PORT_NAME}, "period_seconds": 20, "failure_threshold": 3},
    }


def toleration(t: Toleration) -> dict[str, Any]:
    fields = {
        "key": t.key,
        "operator": t.operator,
        "value": t.value,
        "effect": t.effect,
        "toleration_seconds": t.toleration_seconds,
    }
    return {name: value for name, value in fields.items() if value not in ("", None)}


def spec(
    settings: DeploymentSettings, image: Any, claim_name: Any, gate_config_map: Any = None
) -> dict[str, Any]:
    w = settings.workload
    containers = [shimmy_container(settings, image)]
    volumes: list[dict[str, Any]] = [
        {"name": "models", "persistent_volume_claim": {"claim_name": claim_name}},
        {"name": "tmp", "empty_dir": {"size_limit": "1Gi"}},
    ]
    if settings.gate.enabled:
        containers.append(gate_container(settings))
        volumes.append({"name": "gate", "config_map": {"name": gate_config_map}})
    spec: dict[str, Any] = {
        "containers": containers,
        "volumes": volumes,
        "security_context": pod_security_context(),
        "automount_service_account_token": False,
        # The gate (and shimmy, with graceful-shutdown) drain for shutdownTimeoutSeconds after SIGTERM;
        # the gate listens for at least its endpoint grace.
        "termination_grace_period_seconds": max(w.shutdown_timeout_seconds, ENDPOINT_GRACE_SECONDS)
        + GRACE_MARGIN_SECONDS,
    }
    if not settings.shimmy.patched("graceful-shutdown"):
        # shimmy as published installs no SIGTERM handler and, as PID 1, ignores the signal: every stop
        # would wait out the grace period. With the pod's shared PID namespace the pause process is PID 1.
        spec["share_process_namespace"] = True
    # Only what is set: the API server drops empty fields, which would otherwise diff on every update.
    init = model_init(settings.model)
    if init:
        spec["init_containers"] = [init]
    if w.node_selector:
        spec["node_selector"] = dict(w.node_selector)
    if w.tolerations:
        spec["tolerations"] = [toleration(t) for t in w.tolerations]
    if w.runtime_class_name:
        spec["runtime_class_name"] = w.runtime_class_name
    return spec


def pod_annotations(settings: DeploymentSettings) -> dict[str, str]:
    """The prometheus.io annotations that Prometheus' usual `kubernetes-pods` scrape job reads."""
    if settings.monitoring.mode != "annotations":
        return {}
    return {
        "prometheus.io/scrape": "true",
        "prometheus.io/port": str(settings.monitoring.metrics_port),
        "prometheus.io/path": gate_series.PATH,
    }
