"""Disruptions on the real node while a client keeps calling the Service, one generation after
another: shimmy killed inside its pod, and a new image digest rolled out by Recreate. Every request
must end: answered, told to come back (the gate's 503 with Retry-After) or refused at once while no
pod serves (the Service has no endpoint); none may hang.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from shimmy_gpu.pod_spec import GATE_CONTAINER
from tests.e2e.cluster import kubectl, pods
from tests.e2e.real_node import (
    ADMITTED,
    Deployed,
    client_command,
    client_name,
    deployed_stack,
    generation_body,
)
from tests.engine.cli import policy_args
from tests.engine.stacks import DOCKER

NAMESPACE = "shimmy-e2e-disrupt"
# A request that takes longer than this has hung: a 5-token answer takes about a second here.
HANG_S = 60
# From SIGKILL to the Service answering again: kubelet restarts the container at once the first
# time, shimmy loads the 250 MB model before it listens. Measured here: 6.7 to 8.4 s (5 runs).
RECOVERY_BOUND_S = 30
CURL_EXIT_COULD_NOT_CONNECT = 7  # refused: no endpoint, or the old pod's gate no longer listening


@pytest.fixture(scope="module")
def deployed(tmp_path_factory, cluster):
    with deployed_stack(tmp_path_factory.mktemp("disrupt"), cluster, NAMESPACE) as stack:
        yield stack


@dataclass(frozen=True)
class Call:
    started: float  # wall clock, shared by the pod and this host (one kernel)
    exit: int  # curl's
    status: int
    seconds: float
    retry_after: str

    @property
    def answered(self) -> bool:
        return self.exit == 0 and self.status == 200

    @property
    def ended_clearly(self) -> bool:
        told_to_retry = self.exit == 0 and self.status == 503 and self.retry_after.isdigit()
        return self.answered or told_to_retry or self.exit == CURL_EXIT_COULD_NOT_CONNECT


class Caller:
    """A client pod sending one generation after another through the Service; `calls` fills as
    they end."""

    def __init__(self, deployed: Deployed):
        self.deployed = deployed
        self.name = client_name()
        body = generation_body(5)
        write_out = "%{http_code} %{time_total} %header{retry-after}"
        loop = (
            f"{ADMITTED} && echo READY && while true; do t=$(date +%s.%N); "
            f"w=$(curl -sS -o /dev/null --max-time {HANG_S} -w '{write_out}' "
            f"-H 'Content-Type: application/json' -d '{body}' $SVC/api/generate 2>/dev/null); "
            'echo "CALL $t $? $w"; sleep 0.2; done'
        )
        command = client_command(deployed, loop, name=self.name)
        env = {**os.environ, **deployed.cluster}
        self.process = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, text=True)
        self.calls: list[Call] = []
        self.ready = threading.Event()
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self) -> None:
        for line in self.process.stdout:
            fields = line.split()
            if fields[:1] == ["READY"]:
                self.ready.set()
            elif fields[:1] == ["CALL"]:
                started, rc, status, seconds, *retry = fields[1:]
                self.calls.append(Call(float(started), int(rc), int(status), float(seconds), "".join(retry)))

    def wait(self, done, timeout: float, what: str) -> None:
        deadline = time.monotonic() + timeout
        while not done():
            assert self.process.poll() is None, f"the client pod ended early: {self.calls}"
            assert time.monotonic() < deadline, f"timed out waiting until {what}: {self.calls}"
            time.sleep(0.2)

    def back_after_gap(self, moment: float, in_a_row: int = 3) -> list[Call]:
        """The first `in_a_row` answered calls in a row after the first call since `moment` that
        was not answered, or [] while there are none."""
        gap = next((c for c in self.calls if c.started > moment and not c.answered), None)
        later = [c for c in self.calls if gap and c.started > gap.started]
        for i in range(len(later) - in_a_row + 1):
            if all(c.answered for c in later[i : i + in_a_row]):
                return later[i : i + in_a_row]
        return []

    def stop(self) -> None:
        """Delete the client pod; `kubectl run -i` may keep waiting for it, so it is stopped too."""
        kubectl(self.deployed.cluster, "-n", self.deployed.namespace, "delete", "pod", self.name,
                "--ignore-not-found", "--wait=false")  # fmt: skip
        self.process.terminate()
        self.process.wait(timeout=60)
        self.reader.join(timeout=10)


@pytest.fixture
def caller(deployed):
    calling = Caller(deployed)
    calling.wait(calling.ready.is_set, 120, "the NetworkPolicy admits the client")
    calling.wait(lambda: any(c.answered for c in calling.calls), 120, "a first answer")
    yield calling
    if calling.process.poll() is None:
        calling.stop()


def shimmy_pod(cluster) -> dict:
    """The Deployment's one pod (the client pods share its namespace; a replaced one may still be
    terminating)."""
    found = [
        p
        for p in pods(cluster, NAMESPACE)
        if p["metadata"]["labels"].get("app.kubernetes.io/name") == "shimmy"
        and not p["metadata"].get("deletionTimestamp")
    ]
    assert len(found) == 1, [(p["metadata"]["name"], p["status"].get("phase")) for p in found]
    return found[0]


def shimmy_status(cluster) -> dict:
    pod = shimmy_pod(cluster)
    return {c["name"]: c for c in pod["status"]["containerStatuses"]}["shimmy"]


def host_pid(container_id: str, comm: str) -> int:
    """The host PID of the process named `comm` in a container of the real node (this machine)."""
    for proc in Path("/proc").iterdir():
        try:
            if (proc / "comm").read_text().strip() == comm and container_id in (proc / "cgroup").read_text():
                return int(proc.name)
        except (OSError, ValueError):
            continue
    raise AssertionError(f"no process {comm} in container {container_id}")


def test_shimmy_killed_in_its_pod_is_restarted_and_the_service_answers_again(deployed, cluster, caller):
    before = shimmy_status(cluster)
    killed = time.time()
    os.kill(host_pid(before["containerID"].split("://")[1], "shimmy"), signal.SIGKILL)
    caller.wait(lambda: caller.back_after_gap(killed), 120, "three answers in a row after the kill")
    caller.stop()
    back = caller.back_after_gap(killed)[0]
    recovery = back.started + back.seconds - killed
    outcomes = sorted({(c.exit, c.status) for c in caller.calls if c.started + c.seconds >= killed})
    print(f"shimmy killed: answered again {recovery:.1f} s later; (curl exit, HTTP status): {outcomes}")
    after = shimmy_status(cluster)
    assert after["restartCount"] == before["restartCount"] + 1
    assert after["lastState"]["terminated"]["exitCode"] == 128 + signal.SIGKILL
    assert recovery < RECOVERY_BOUND_S, f"{recovery:.1f} s"
    assert all(c.ended_clearly for c in caller.calls), caller.calls


def new_gate_image(image: str) -> str:
    """`image` with one more label, pushed beside it: a new digest for the gate's container."""
    path, _, last = image.split("@")[0].rpartition("/")
    repository = f"{path}/{last.split(':')[0]}"  # without the digest and any tag
    tag = f"{repository}:e2e-rollout"
    env = {"DOCKER_BUILDKIT": "1", "PATH": "/usr/bin:/bin"}
    with tempfile.TemporaryDirectory() as context:
        Path(context, "Dockerfile").write_text(f"FROM {image}\nLABEL io.shimmy-gpu.e2e=rollout\n")
        subprocess.run([DOCKER, "build", "-q", "-t", tag, context], check=True, env=env, capture_output=True)
    subprocess.run([DOCKER, "push", "-q", tag], check=True, env=env, capture_output=True)
    inspect = [DOCKER, "image", "inspect", "--format", "{{json .RepoDigests}}", tag]
    digests = json.loads(subprocess.run(inspect, check=True, env=env, capture_output=True, text=True).stdout)
    (pinned,) = [d for d in digests if d.startswith(repository + "@")]
    return pinned


def test_a_new_image_digest_rolls_out_by_recreate_and_every_request_ends(deployed, cluster, caller):
    old = deployed.outputs()
    old_pod = shimmy_pod(cluster)
    gate = {c["name"]: c for c in old_pod["spec"]["containers"]}[GATE_CONTAINER]
    new = new_gate_image(gate["image"])
    assert new != gate["image"]
    deployed.pulumi("config", "set", "pythonImage", new)
    started = time.time()
    deployed.pulumi("up", "--yes", *policy_args("local"))
    up_s = time.time() - started
    deployment = json.loads(kubectl(cluster, "-n", NAMESPACE, "get", "deployment", "shimmy", "-o", "json"))
    assert deployment["spec"]["strategy"]["type"] == "Recreate"
    status = deployment["status"]
    # `up` returned only once the new pod was available (shimmy_gpu/rollout.py).
    assert status["observedGeneration"] == deployment["metadata"]["generation"], status
    assert [status.get(k) for k in ("replicas", "updatedReplicas", "availableReplicas")] == [1, 1, 1], status
    pod = shimmy_pod(cluster)
    assert pod["metadata"]["uid"] != old_pod["metadata"]["uid"]
    assert {c["name"]: c for c in pod["spec"]["containers"]}[GATE_CONTAINER]["image"] == new
    assert deployed.outputs()["image"] == old["image"]  # shimmy's own image is unchanged
    caller.wait(lambda: caller.back_after_gap(started), 120, "the rollout's gap, then three answers in a row")
    caller.stop()
    during = [c for c in caller.calls if c.started >= started]
    outcomes = sorted({(c.exit, c.status) for c in during})
    gap = [c for c in during if not c.answered]
    back = caller.back_after_gap(started)[0]
    print(
        f"rollout: up {up_s:.1f} s, {len(during)} calls, {len(gap)} not answered over "
        f"{back.started - gap[0].started:.1f} s, "
        f"(curl exit, HTTP status): {outcomes}"
    )
    assert all(c.ended_clearly for c in caller.calls), caller.calls
