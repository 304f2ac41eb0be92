"""Pure builders for the shimmy workload: its command line and the pieces of its pod.

Everything here returns plain values (snake_case dicts as pulumi-kubernetes accepts them), so the
tests and the policy pack reason about exactly what the component declares.
"""

from __future__ import annotations

from typing import Any

from components.config import ModelSettings, Settings, Toleration

NAME = "shimmy"  # Deployment and Service: stable names for DNS, kubectl and the smoke test
RUN_AS = 10001  # the image's numeric non-root user; the pod enforces it too
CONTAINER = "shimmy"
PORT_NAME = "http"
HEALTH_PATH = "/health"  # always 200 with JSON once the server listens (FACTS); /metrics runs nvidia-smi
PROBE_PERIOD_SECONDS = 10
# The namespace enforces what the pod already does: the "restricted" Pod Security Standard.
POD_SECURITY = {"pod-security.kubernetes.io/enforce": "restricted"}


def gpu_backend(settings: Settings) -> str:
    """`--gpu-backend` value. Never `auto`: it silently falls back to CPU (FACTS)."""
    return "cuda" if settings.build.accelerator == "cuda" else "cpu"


def shimmy_args(settings: Settings) -> list[str]:
    """The container args (the image's ENTRYPOINT is `shimmy`), as shimmy v1.9 reads them.

    `--bind` must be explicit: its default `auto` listens on loopback only. `--model-path` takes the
    GGUF file itself; given a folder shimmy starts and then fails at the first request.
    """
    return [
        "serve",
        "--bind",
        f"0.0.0.0:{settings.workload.port}",
        "--gpu-backend",
        gpu_backend(settings),
        "--model-path",
        settings.model.path,
    ]


def command_line(settings: Settings) -> str:
    return " ".join(["shimmy", *shimmy_args(settings)])


def app_labels(settings: Settings) -> dict[str, str]:
    """Labels on every object; the first two also select the pods."""
    return {
        **selector_labels(settings),
        "app.kubernetes.io/part-of": "shimmy-gpu",
        "app.kubernetes.io/component": "inference",
        "app.kubernetes.io/version": settings.build.shimmy.version,
        "app.kubernetes.io/managed-by": "pulumi",
    }


def selector_labels(settings: Settings) -> dict[str, str]:
    return {"app.kubernetes.io/name": "shimmy", "app.kubernetes.io/instance": f"shimmy-{settings.stack}"}


def resources(settings: Settings) -> dict[str, Any]:
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


def probes(settings: Settings) -> dict[str, Any]:
    """Startup covers the model load window; after it, readiness and liveness watch /health."""
    check = {"http_get": {"path": HEALTH_PATH, "port": PORT_NAME}, "timeout_seconds": 5}
    startup_failures = -(-settings.workload.startup_timeout_seconds // PROBE_PERIOD_SECONDS)
    return {
        "startup_probe": {
            **check,
            "period_seconds": PROBE_PERIOD_SECONDS,
            "failure_threshold": startup_failures,
        },
        "readiness_probe": {**check, "period_seconds": PROBE_PERIOD_SECONDS, "failure_threshold": 3},
        "liveness_probe": {**check, "period_seconds": 20, "failure_threshold": 3},
    }


def model_fetch_script() -> str:
    """Init container: download the GGUF once; a pod restart or a new replica reuses it."""
    return (
        "set -eu\n"
        'if [ -s "$MODEL_PATH" ]; then echo "model present: $MODEL_PATH"; exit 0; fi\n'
        'curl -fL --retry 5 --retry-delay 10 -o "$MODEL_PATH.part" "$MODEL_URL"\n'
        'if [ -n "$MODEL_SHA256" ]; then echo "$MODEL_SHA256  $MODEL_PATH.part" | sha256sum -c -; fi\n'
        'mv "$MODEL_PATH.part" "$MODEL_PATH"\n'
    )


def model_fetcher(model: ModelSettings) -> dict[str, Any] | None:
    if model.source == "pvc":
        return None
    return {
        "name": "fetch-model",
        "image": model.fetcher_image,
        "command": ["sh", "-c", model_fetch_script()],
        "env": [
            {"name": "MODEL_URL", "value": model.download_url},
            {"name": "MODEL_PATH", "value": model.path},
            # Kubernetes drops empty values, so an empty one would show as a change in every diff.
            *([{"name": "MODEL_SHA256", "value": model.sha256}] if model.sha256 else []),
        ],
        "volume_mounts": [{"name": "models", "mount_path": model.mount_path}],
        "resources": {"requests": {"cpu": "100m", "memory": "64Mi"}, "limits": {"memory": "256Mi"}},
        "security_context": container_security_context(),
    }


def shimmy_container(settings: Settings, image: Any) -> dict[str, Any]:
    return {
        "name": CONTAINER,
        "image": image,
        "args": shimmy_args(settings),
        "ports": [{"name": PORT_NAME, "container_port": settings.workload.port, "protocol": "TCP"}],
        "env": [
            {"name": "RUST_LOG", "value": settings.workload.rust_log},
            # shimmy's discovery and libraries may write under $HOME; the root FS is read-only.
            {"name": "HOME", "value": "/tmp"},
        ],
        "resources": resources(settings),
        "volume_mounts": [
            {"name": "models", "mount_path": settings.model.mount_path, "read_only": True},
            {"name": "tmp", "mount_path": "/tmp"},
        ],
        "security_context": container_security_context(),
        **probes(settings),
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


def pod_spec(settings: Settings, image: Any, claim_name: Any) -> dict[str, Any]:
    w = settings.workload
    fetcher = model_fetcher(settings.model)
    spec: dict[str, Any] = {
        "containers": [shimmy_container(settings, image)],
        "volumes": [
            {"name": "models", "persistent_volume_claim": {"claim_name": claim_name}},
            {"name": "tmp", "empty_dir": {"size_limit": "1Gi"}},
        ],
        "security_context": pod_security_context(),
        # shimmy 1.9 installs no SIGTERM handler and, as PID 1, ignores the signal: every stop waited
        # out the grace period. With the pod's shared PID namespace the pause process is PID 1.
        "share_process_namespace": True,
        "automount_service_account_token": False,
        # Model load plus in-flight requests; shimmy holds no state worth a long drain.
        "termination_grace_period_seconds": 30,
    }
    # Only what is set: the API server drops empty fields, which would otherwise diff on every update.
    if fetcher:
        spec["init_containers"] = [fetcher]
    if w.node_selector:
        spec["node_selector"] = dict(w.node_selector)
    if w.tolerations:
        spec["tolerations"] = [toleration(t) for t in w.tolerations]
    if w.runtime_class_name:
        spec["runtime_class_name"] = w.runtime_class_name
    return spec


def deployment_strategy() -> dict[str, Any]:
    """Recreate: with one GPU per node a surge pod would wait for a GPU the old pod holds, forever."""
    return {"type": "Recreate"}


def smoke_test(settings: Settings) -> str:
    """A ready-to-paste check through the Service: one non-streamed completion."""
    body = f'{{"model": "{settings.model.name}", "prompt": "Say hello.", "max_tokens": 30, "stream": false}}'
    ns, port = settings.workload.namespace, settings.service.port
    return (
        f"kubectl -n {ns} port-forward svc/{NAME} 18081:{port} & sleep 3; "
        "curl -sS -X POST http://127.0.0.1:18081/api/generate -H 'Content-Type: application/json' "
        f"-d '{body}'; kill %1"
    )
