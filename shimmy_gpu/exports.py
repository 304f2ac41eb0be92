"""Stack outputs meant to be pasted into a shell: every word quoted for it (shlex), whatever the value."""

from __future__ import annotations

import json
import shlex

from shimmy_policy import facts

from shimmy_gpu import workload
from shimmy_gpu.settings import Settings

LOCAL_PORT = 18081


def command_line(settings: Settings) -> str:
    """The shimmy command the pod runs, as one shell line."""
    return shlex.join([facts.EXECUTABLE, *workload.shimmy_args(settings)])


def smoke_test(settings: Settings) -> str:
    """A ready-to-paste check through the Service: one non-streamed completion."""
    body = json.dumps(
        {"model": settings.model.name, "prompt": "Say hello.", "max_tokens": 30, "stream": False}
    )
    forward = shlex.join(
        ["kubectl", "-n", settings.workload.namespace, "port-forward", f"svc/{workload.NAME}",
         f"{LOCAL_PORT}:{settings.service.port}"]
    )  # fmt: skip
    request = shlex.join(
        ["curl", "-sS", "-X", "POST", f"http://127.0.0.1:{LOCAL_PORT}{facts.GENERATE_PATH}",
         "-H", "Content-Type: application/json", "-d", body]
    )  # fmt: skip
    return f"{forward} & forward=$!; sleep 3; {request}; kill $forward"
