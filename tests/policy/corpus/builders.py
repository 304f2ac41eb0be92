"""Objects built in code, as the shipped program declares them, for tests that vary one field at a time."""

from __future__ import annotations

from typing import Any

import shimmy_facts as facts

from tests.policy.corpus.case import DIGEST

DEPLOYMENT = "kubernetes:apps/v1:Deployment"
SERVICE = "kubernetes:core/v1:Service"
IMAGE = f"registry.example.com/ml/shimmy@{DIGEST}"
LABELS = {"app.kubernetes.io/name": "shimmy"}


def shimmy_container(**fields: Any) -> dict[str, Any]:
    """The shipped program's shimmy container (every rule satisfied), fields overridden (None: removed)."""
    container = {
        "name": "shimmy",
        "image": IMAGE,
        "args": [
            "serve",
            "--bind",
            "0.0.0.0:8081",
            "--gpu-backend",
            "cuda",
            "--model-path",
            "/models/a.gguf",
        ],
        "ports": [{"name": "http", "containerPort": 8081, "protocol": "TCP"}],
        "env": [{"name": "RUST_LOG", "value": "info"}],
        "resources": {"limits": {"cpu": "4", "nvidia.com/gpu": "1"}, "requests": {"cpu": "2"}},
        "securityContext": {
            "runAsNonRoot": True,
            "allowPrivilegeEscalation": False,
            "capabilities": {"drop": ["ALL"]},
            "seccompProfile": {"type": "RuntimeDefault"},
        },
        "readinessProbe": {"httpGet": {"path": "/health", "port": "http"}},
        "livenessProbe": {"httpGet": {"path": "/health", "port": "http"}},
    }
    container.update(fields)
    return container


def deployment(**container: Any) -> dict[str, Any]:
    """A Deployment as the shipped program declares it (every rule satisfied), container fields overridden."""
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "shimmy", "namespace": "shimmy"},
        "spec": {
            "strategy": {"type": "Recreate"},
            "selector": {"matchLabels": dict(LABELS)},
            "template": {
                "metadata": {"labels": dict(LABELS)},
                "spec": {"containers": [shimmy_container(**container)]},
            },
        },
    }


GATE = {
    "name": "shimmy-gate",
    "image": "python:3.12-slim@sha256:" + "c" * 64,
    "command": ["python3", "/gate/gate.py", "--listen", "0.0.0.0:8081", "--upstream", "127.0.0.1:8082"],
    "ports": [{"name": "http", "containerPort": 8081}],
}


def gated_deployment(front: dict[str, Any] = GATE, **container: Any) -> dict[str, Any]:
    """The shipped program's pod with its request gate: shimmy on loopback, the gate on the port."""
    args = ["serve", "--bind", "127.0.0.1:8082", "--gpu-backend", "cuda", "--model-path", "/models/a.gguf"]
    manifest = deployment(args=args, ports=None, **container)
    manifest["spec"]["template"]["spec"]["containers"].append(dict(front))
    return manifest


def service(target_port: int | str = 8081, selector: dict[str, str] | None = None) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": "shimmy", "namespace": "shimmy"},
        "spec": {
            "selector": selector or dict(LABELS),
            "ports": [{"name": "http", "port": 80, "targetPort": target_port}],
        },
    }


def container(props: dict[str, Any]) -> dict[str, Any]:
    """The first container of a Deployment's pod template."""
    return props["spec"]["template"]["spec"]["containers"][0]


def pod_spec(props: dict[str, Any]) -> dict[str, Any]:
    return props["spec"]["template"]["spec"]


def image_build(**args: str) -> dict[str, Any]:
    """A pulumi-docker Image's inputs as components/image.py passes them; build args overridden ("": none)."""
    build = {"ACCELERATOR": "cuda", "SHIMMY_VERSION": "1.9.0", "CARGO_FEATURES": "huggingface,llama-cuda"}
    build["CUDA_ARCHITECTURES"] = "75"
    build["SHIMMY_PATCHES"] = ",".join(facts.PATCH_NAMES)
    build.update(args)
    return {
        "imageName": "registry.example.com/ml/shimmy:t",
        "build": {"args": {k: v for k, v in build.items() if v}},
    }
