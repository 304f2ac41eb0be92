"""Stack outputs meant to be pasted into a shell: every word quoted for it (shlex), whatever the value."""

from __future__ import annotations

import json
import shlex

import shimmy_facts as facts

from shimmy_gpu import pod_spec
from shimmy_gpu.settings import Settings

SMOKE_POD = "shimmy-smoke"


def command_line(settings: Settings) -> str:
    """The shimmy command the pod runs, as one shell line."""
    return shlex.join([facts.EXECUTABLE, *pod_spec.shimmy_args(settings.deployment)])


def service_env(name: str) -> tuple[str, str]:
    """The variables Kubernetes sets in every pod for a Service of its namespace: its ClusterIP and
    port, so a client reaches it with no cluster DNS."""
    prefix = name.upper().replace("-", "_")
    return f"{prefix}_SERVICE_HOST", f"{prefix}_SERVICE_PORT"


def smoke_request(settings: Settings) -> str:
    """The script of the smoke pod: one non-streamed completion through the Service's ClusterIP;
    curl fails on an error status, after printing its body (the gate's 503 says why). A
    NetworkPolicy controller admits a new pod a moment after it starts (refused until then), so a
    GET /health, retried while refused for up to 30 s, goes first; the completion is sent once."""
    body = json.dumps(
        {"model": settings.model.name, "prompt": "Say hello.", "max_tokens": 30, "stream": False}
    )
    host, port = service_env(pod_spec.NAME)
    service = f'"http://${{{host}}}:${{{port}}}'
    admitted = shlex.join(
        ["curl", "-sS", "-o", "/dev/null", "--fail", "--retry", "30", "--retry-connrefused",
         "--retry-delay", "1", "--retry-max-time", "30", "--max-time", "5"]
    )  # fmt: skip
    request = shlex.join(
        ["curl", "-sS", "--fail-with-body", "--max-time", "300", "-X", "POST",
         "-H", "Content-Type: application/json", "-d", body]
    )  # fmt: skip
    return f'{admitted} {service}{facts.HEALTH_PATH}" && {request} {service}{facts.GENERATE_PATH}"'


def smoke_pod_overrides(settings: Settings) -> str:
    """The smoke pod as the namespace's restricted Pod Security admits it."""
    identity = pod_spec.container_security_context()
    pod = {
        "spec": {
            "automountServiceAccountToken": False,
            "securityContext": {
                "runAsNonRoot": True,
                "runAsUser": identity["run_as_user"],
                "runAsGroup": identity["run_as_group"],
                "seccompProfile": {"type": "RuntimeDefault"},
            },
            "containers": [
                {
                    "name": SMOKE_POD,
                    "securityContext": {
                        "allowPrivilegeEscalation": False,
                        "readOnlyRootFilesystem": True,
                        "capabilities": {"drop": ["ALL"]},
                    },
                }
            ],
        }
    }
    return json.dumps(pod, separators=(",", ":"))


def smoke_test(settings: Settings) -> str:
    """A ready-to-paste check through the Service, as a client of the stack sees it: a pod in the
    namespace, with the labels the NetworkPolicy admits, sends one request to the ClusterIP, and
    is removed after it. Its image is the model fetcher's (sh and curl)."""
    command = ["kubectl"]
    if settings.kube_context:
        command += ["--context", settings.kube_context]
    command += ["-n", settings.workload.namespace, "run", SMOKE_POD, "--rm", "-i", "--quiet",
                "--restart=Never", "--pod-running-timeout=2m",
                f"--image={settings.model.fetcher_image}"]  # fmt: skip
    labels = ",".join(f"{key}={value}" for key, value in settings.network.client_pod_labels)
    if labels:
        command.append(f"--labels={labels}")
    command += ["--override-type=strategic", f"--overrides={smoke_pod_overrides(settings)}",
                "--command", "--", "sh", "-c", smoke_request(settings)]  # fmt: skip
    return shlex.join(command)
