"""Real image steps shared by the smoke test and benchmarks/image.sh.

Everything here talks to the real Docker engine and registry of scripts/docker-env.sh and builds
the Dockerfile that `render_dockerfile` gives for the `local` stack (cpu profile) on the base images
of scripts/base-images.sh. The container runs as the Deployment runs it: `pod_spec.shimmy_args`,
the image's numeric user, read-only root FS, a writable /tmp, HOME=/tmp, models under the
configured mount path.
"""

from __future__ import annotations

import json
import os
import subprocess
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from scripts.local_model import model_file  # noqa: F401 (the tests and benchmarks take it from here)
from shimmy_gpu.config import parse_settings
from shimmy_gpu.dockerfile import render_dockerfile
from shimmy_gpu.pod_spec import shimmy_args, shimmy_env
from shimmy_gpu.settings import Settings
from shimmy_gpu.stack_config import raw_config

ROOT = Path(__file__).resolve().parent.parent.parent
CACHE = Path(os.environ.get("SHIMMY_GPU_CACHE", Path.home() / ".cache" / "shimmy-gpu"))
DOCKER = "/usr/bin/docker"  # Debian's CLI: BuildKit without the buildx plugin
STACK = "local"


def sh(*args: str, capture: bool = False, check: bool = True, **kwargs) -> str:
    result = subprocess.run(args, check=check, text=True, capture_output=capture, **kwargs)
    return result.stdout.strip() if capture else ""


def docker(*args: str, capture: bool = True, check: bool = True) -> str:
    env = {**os.environ, "DOCKER_BUILDKIT": "1"}
    return sh(DOCKER, *args, capture=capture, check=check, env=env)


def start_engine() -> dict[str, str]:
    """Engine + registry up, base images made; returns their config keys for the generator."""
    sh("bash", str(ROOT / "scripts" / "docker-env.sh"), "start", capture=True)
    out = sh("bash", str(ROOT / "scripts" / "base-images.sh"), capture=True)
    return dict(line.split(": ", 1) for line in out.splitlines())


def local_settings(base_images: dict[str, str], model: Path) -> Settings:
    """The local stack's settings for the real model. Without the request gate, whose pod partner
    (a Python image) cannot be pulled here: shimmy then binds 0.0.0.0:<port> as a gate-less pod
    runs it; the gate runs beside the container from the host instead (test_real_image.py)."""
    # (and without its metrics, which the gate serves)
    gateless = {"requestGate": False, "monitoring": "none"}
    raw = raw_config(STACK, {**base_images, "modelFile": model.name, **gateless})
    return parse_settings(STACK, raw)


def write_dockerfile(settings: Settings) -> Path:
    # docker/build/ is git-ignored and outside the (empty) build context.
    path = ROOT / "docker" / "build" / "image-test.Dockerfile"
    path.parent.mkdir(exist_ok=True)
    path.write_text(render_dockerfile(settings.build))
    return path


def build(settings: Settings, dockerfile: Path, tag: str, *extra: str) -> None:
    docker(
        "build", "--progress=plain", "--platform", settings.build.platform,
        "-f", str(dockerfile), "-t", tag, *extra, str(ROOT / "docker"),
        capture=False,
    )  # fmt: skip


def push(settings: Settings) -> str:
    """Push the tag; return the registry's `<repo>@sha256:...` reference."""
    docker("push", settings.image.name)
    digests = json.loads(docker("image", "inspect", "--format", "{{json .RepoDigests}}", settings.image.name))
    repository = settings.image.name.rsplit(":", 1)[0]
    (ref,) = [d for d in digests if d.startswith(repository + "@")]
    return ref


def pull_fresh(ref: str, tag: str) -> None:
    """Drop the local image, then pull it back by digest: what runs next came from the registry."""
    docker("image", "rm", "--force", tag, ref, check=False)
    docker("pull", ref)


@dataclass(frozen=True)
class Server:
    container: str
    url: str
    model: str


def run(
    settings: Settings, ref: str, model: Path, host_port: int = 18081, env: dict[str, str] | None = None
) -> Server:
    """Start the container as the Deployment would, with the pod's shimmy environment and `env`
    over it. Not removed on exit, so its exit code and log stay readable until `stop`."""
    port = settings.workload.port
    mount = settings.model.mount_path
    variables = {**{e["name"]: e["value"] for e in shimmy_env(settings.deployment)}, **(env or {})}
    container = docker(
        "run", "-d",
        "--read-only", "--tmpfs", "/tmp:rw,size=1g",
        "--cap-drop", "ALL", "--security-opt", "no-new-privileges",
        *(f"--env={name}={value}" for name, value in variables.items()),
        "-v", f"{model.parent}:{mount}:ro",
        "-p", f"127.0.0.1:{host_port}:{port}",
        ref, *shimmy_args(settings.deployment),
    )  # fmt: skip
    return Server(container, f"http://127.0.0.1:{host_port}", settings.model.name)


def stop(server: Server) -> None:
    docker("stop", "-t", "5", server.container, check=False)
    docker("rm", "--force", server.container, check=False)


def exit_code(server: Server, timeout: float) -> int:
    """Wait at most `timeout` seconds for the container to exit; its exit code."""
    result = subprocess.run(
        [DOCKER, "wait", server.container], capture_output=True, text=True, timeout=timeout
    )
    return int(result.stdout.strip())


def logs(server: Server) -> str:
    result = subprocess.run([DOCKER, "logs", server.container], capture_output=True, text=True)
    return result.stdout + result.stderr


def request(url: str, body: dict | None = None, timeout: float = 300) -> tuple[int, str]:
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


def wait_until(ready, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if ready():
                return
        except OSError:
            pass
        time.sleep(0.2)
    raise TimeoutError(f"not ready in {timeout}s")


def wait_healthy(server: Server, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if request(server.url + "/health", timeout=2)[0] == 200:
                return
        except OSError:
            pass
        time.sleep(0.5)
    raise TimeoutError(f"shimmy did not answer /health in {timeout}s:\n{logs(server)}")


def timed_generate(server: Server, prompt: str, max_tokens: int) -> tuple[float, int]:
    """A streamed /api/generate: seconds until the stream ends and tokens generated.

    Tokens are counted as server-sent events (one per token, whatever its text). shimmy 1.9.0 sends
    them in one burst once generation is done, so the arrival of the first event is not the time
    to first token; callers difference two lengths instead.
    """
    body = {"model": server.model, "prompt": prompt, "max_tokens": max_tokens, "stream": True}
    req = urllib.request.Request(
        server.url + "/api/generate",
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json"},
    )
    start = time.monotonic()
    tokens = 0
    event: list[str] = []
    with urllib.request.urlopen(req, timeout=600) as response:
        for raw in response:
            line = raw.decode().rstrip("\r\n")
            if line:
                event.append(line)
                continue
            data = "\n".join(part[5:].removeprefix(" ") for part in event if part.startswith("data:"))
            tokens += bool(event) and data != "[DONE]"
            event = []
    return time.monotonic() - start, tokens
