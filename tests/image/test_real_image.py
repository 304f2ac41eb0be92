"""The real image: built from the generated Dockerfile, pushed, pulled back by digest, serving a model.

No mocks: a Docker engine and a registry on 127.0.0.1:5000 (scripts/docker-env.sh), base images
made by debootstrap (scripts/base-images.sh), shimmy 1.9.0 from its crates.io .crate, the real
Gemma 3 270M GGUF from PyPI. The cpu profile of the `local` stack, run with the Deployment's args.
Cold, the build takes about half an hour on two cores; warm (BuildKit cache and engine data root
in the cache folder), every step is a cache hit and the module runs in well under a minute.
"""

import json
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor

import pytest
from shimmy_facts import RUNTIME_UID

from shimmy_gpu.dockerfile import LABEL_ACCELERATOR, LABEL_FEATURES
from shimmy_gpu.pod_spec import RUN_AS, shimmy_args
from tests.image import harness
from tests.shimmy_gpu.pod.test_gate import shipped_gate


@pytest.fixture(scope="module")
def deployed():
    base_images = harness.start_engine()
    model = harness.model_file()
    settings = harness.local_settings(base_images, model)
    harness.build(settings, harness.write_dockerfile(settings), settings.image.name)
    ref = harness.push(settings)
    harness.pull_fresh(ref, settings.image.name)
    server = harness.run(settings, ref, model)
    try:
        harness.wait_healthy(server)
        yield settings, ref, server
    finally:
        harness.stop(server)


def test_the_container_that_answers_runs_the_image_pulled_by_digest(deployed):
    _, ref, server = deployed
    assert ref.startswith("127.0.0.1:5000/shimmy-gpu/shimmy@sha256:")
    running = harness.docker("inspect", "--format", "{{.Config.Image}} {{.Image}}", server.container)
    image_ref, image_id = running.split()
    assert image_ref == ref
    assert ref in json.loads(
        harness.docker("image", "inspect", "--format", "{{json .RepoDigests}}", image_id)
    )


def test_it_runs_with_the_deployments_args_user_and_read_only_root(deployed):
    settings, _, server = deployed
    config = json.loads(harness.docker("inspect", "--format", "{{json .}}", server.container))
    assert config["Args"] == shimmy_args(settings.deployment)
    assert config["Args"][:5] == [
        "serve",
        "--bind",
        f"0.0.0.0:{settings.workload.port}",
        "--gpu-backend",
        "cpu",
    ]
    assert config["Path"] == "shimmy"
    assert config["Config"]["User"] == f"{RUNTIME_UID}:{RUNTIME_UID}" == f"{RUN_AS}:{RUN_AS}"
    assert config["HostConfig"]["ReadonlyRootfs"] is True
    assert harness.docker("exec", server.container, "id", "-u") == str(RUN_AS)


def test_image_labels_say_what_was_built(deployed):
    _, ref, _ = deployed
    labels = json.loads(harness.docker("image", "inspect", "--format", "{{json .Config.Labels}}", ref))
    assert labels["org.opencontainers.image.version"] == "1.9.0"
    assert labels[LABEL_ACCELERATOR] == "cpu"
    assert labels[LABEL_FEATURES] == "huggingface,llama"
    assert not [key for key in labels if "cuda" in key]


def test_binary_needs_nothing_the_runtime_base_lacks(deployed):
    _, ref, _ = deployed
    ldd = harness.docker("run", "--rm", "--entrypoint", "ldd", ref, "/usr/local/bin/shimmy")
    assert "not found" not in ldd
    assert "libstdc++" in ldd  # llama.cpp is C++: the one library beyond glibc


def test_health(deployed):
    _, _, server = deployed
    status, body = harness.request(server.url + "/health")
    assert status == 200
    json.loads(body)


def test_models_lists_the_mounted_model(deployed):
    _, _, server = deployed
    status, body = harness.request(server.url + "/v1/models")
    assert status == 200
    assert server.model in [m["id"] for m in json.loads(body)["data"]]


def test_generate_returns_text(deployed):
    _, _, server = deployed
    body = {"model": server.model, "prompt": "The capital of France is", "max_tokens": 16, "stream": False}
    status, reply = harness.request(server.url + "/api/generate", body)
    assert status == 200, reply
    assert json.loads(reply)["response"].strip()


def test_chat_completions_answers(deployed):
    _, _, server = deployed
    body = {
        "model": server.model,
        "messages": [{"role": "user", "content": "Say hello."}],
        "max_tokens": 16,
        "stream": False,
    }
    status, reply = harness.request(server.url + "/v1/chat/completions", body)
    assert status == 200, reply
    assert json.loads(reply)["choices"][0]["message"]["content"].strip()


def test_the_gate_lets_one_generation_at_a_time_reach_the_real_shimmy(deployed, tmp_path):
    # The pod's front container, run beside the real container: limit 1, three clients at once.
    _, _, server = deployed
    port = 18090
    gate = subprocess.Popen(
        [sys.executable, str(shipped_gate(tmp_path / "gate")), "--listen", f"127.0.0.1:{port}",
         "--upstream", server.url.removeprefix("http://"), "--limit", "1", "--queue", "8"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    try:
        url = f"http://127.0.0.1:{port}"
        harness.wait_until(lambda: harness.request(url + "/gate", timeout=2)[0] == 200)
        body = {"model": server.model, "prompt": "One word:", "max_tokens": 4, "stream": False}
        with ThreadPoolExecutor(3) as pool:
            answers = list(pool.map(lambda _: harness.request(url + "/api/generate", body), range(3)))
        assert [status for status, _ in answers] == [200, 200, 200], answers
        stats = json.loads(harness.request(url + "/gate")[1])
        assert (stats["served"], stats["max_in_flight"]) == (3, 1)
        assert harness.request(url + "/health")[0] == 200  # probes pass through without a slot
    finally:
        gate.terminate()
        gate.wait(10)
