"""Our patches over shimmy 1.9.0, in the real image: what each one fixes, against shimmy as published.

No mocks: both images are built from the generated Dockerfile of the `local` stack (cpu profile) on
the real Docker engine, one with the stack's patch set and one with `shimmyPatches: []`, and serve
the real Gemma 3 270M as the Deployment runs shimmy. Generations are greedy unless a test says not.
"""

import http.client
import json
import os
import re
import shutil
import socket
import subprocess
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace

import pytest
import shimmy_facts as facts

from tests.image import harness

PROMPT = "The capital of France is"
# Printed by llama.cpp once per model load, whatever the backend.
LOAD_LINE = "llama_model_loader: loaded meta data"


def build_image(settings, name: str) -> str:
    path = harness.ROOT / "docker" / "build" / f"{name}.Dockerfile"
    path.parent.mkdir(exist_ok=True)
    path.write_text(harness.render_dockerfile(settings.build))
    tag = f"shimmy-gpu-image-tests/{name}:latest"
    harness.build(settings, path, tag)
    return tag


@pytest.fixture(scope="module")
def images():
    base_images = harness.start_engine()
    model = harness.model_file()
    patched = harness.local_settings(base_images, model)
    assert patched.build.shimmy.patches == facts.PATCH_NAMES
    pristine = replace(
        patched, build=replace(patched.build, shimmy=replace(patched.build.shimmy, patches=()))
    )
    return {
        "model": model,
        "patched": (patched, build_image(patched, "patched")),
        "pristine": (pristine, build_image(pristine, "pristine")),
    }


@pytest.fixture
def start(images):
    """start(kind, **env) runs one container of that image and waits for /health; all are removed."""
    started = []

    def start(kind: str, port: int = 18101, healthy: bool = True, **env: str) -> harness.Server:
        settings, tag = images[kind]
        server = harness.run(settings, tag, images["model"], host_port=port + len(started), env=env)
        started.append(server)
        if healthy:
            harness.wait_healthy(server)
        return server

    yield start
    for server in started:
        harness.stop(server)


def generate(server, max_tokens: int = 48, timeout: float = 300, **options) -> str:
    body = {"model": server.model, "prompt": PROMPT, "max_tokens": max_tokens, "stream": False, **options}
    status, reply = harness.request(server.url + "/api/generate", body, timeout=timeout)
    assert status == 200, reply
    return json.loads(reply)["response"]


def repeated_ngram_share(text: str, n: int = 4) -> float:
    """The share of word n-grams that occurred before in the same text: 0 for none, near 1 for a loop."""
    words = text.split()
    grams = [tuple(words[i : i + n]) for i in range(len(words) - n + 1)]
    return 1 - len(set(grams)) / len(grams) if grams else 0.0


def memory_mib(server) -> float:
    """The resident memory of the container's shimmy (PID 1), in MiB."""
    status = harness.docker("exec", server.container, "cat", "/proc/1/status")
    return int(re.search(r"VmRSS:\s+(\d+) kB", status)[1]) / 1024


def walk_away(server, stream: bool, after_seconds: float = 1.0) -> None:
    """Ask for a long generation, then hang up without reading the answer."""
    body = {"model": server.model, "prompt": PROMPT, "max_tokens": 3000, "stream": stream}
    connection = http.client.HTTPConnection(server.url.removeprefix("http://"), timeout=30)
    connection.request("POST", "/api/generate", json.dumps(body), {"Content-Type": "application/json"})
    time.sleep(after_seconds)
    connection.sock.shutdown(socket.SHUT_RDWR)
    connection.close()


# --- resident-model -------------------------------------------------------------------------------


def test_the_model_loads_once_per_process_and_concurrent_requests_share_it(start):
    server = start("patched", SHIMMY_MAX_PARALLEL="4")
    loaded = memory_mib(server)
    with ThreadPoolExecutor(4) as pool:
        answers = list(pool.map(lambda _: generate(server, max_tokens=24), range(8)))
    assert all(answer.strip() for answer in answers)
    log = harness.logs(server)
    assert log.count(LOAD_LINE) == 1, log
    assert "model resident: loaded once, 4 contexts" in log
    # The weights alone are some 235 MiB (and as much again repacked): eight requests, four at a
    # time, add less than one copy.
    assert memory_mib(server) - loaded < 200


def test_shimmy_as_published_loads_the_model_for_every_request(start):
    server = start("pristine")
    for _ in range(3):
        generate(server, max_tokens=4)
    assert harness.logs(server).count(LOAD_LINE) == 3


def test_health_answers_within_a_second_while_every_context_generates(start):
    server = start("patched", SHIMMY_MAX_PARALLEL="4")
    with ThreadPoolExecutor(4) as pool:
        running = [pool.submit(generate, server, 400) for _ in range(4)]
        time.sleep(2)
        waits = []
        while not all(f.done() for f in running) and len(waits) < 20:
            began = time.monotonic()
            assert harness.request(server.url + "/health", timeout=5)[0] == 200
            waits.append(time.monotonic() - began)
            time.sleep(0.2)
        assert all(f.result().strip() for f in running)
    assert len(waits) >= 3 and max(waits) < 1.0, waits


@pytest.mark.parametrize("value", ["0", "abc", "257", "-1"])
def test_a_bad_max_parallel_stops_start_up_and_names_the_variable(start, value):
    server = start("patched", healthy=False, SHIMMY_MAX_PARALLEL=value)
    assert harness.exit_code(server, timeout=60) != 0
    assert facts.ENV_MAX_PARALLEL in harness.logs(server)


# --- sampler --------------------------------------------------------------------------------------


def test_greedy_output_no_longer_loops_where_shimmy_as_published_does(start):
    # A model this small still comes back to a sentence of its own beyond the penalty's window of
    # 64 tokens; shimmy as published repeats within it, from the first recurring token on.
    patched = generate(start("patched"), max_tokens=120, temperature=0)
    pristine = generate(start("pristine"), max_tokens=120, temperature=0)
    shares = repeated_ngram_share(patched), repeated_ngram_share(pristine)
    assert shares[1] > 0.5 and shares[0] < shares[1] / 2, (shares, patched, pristine)


def test_temperature_samples_and_zero_is_greedy(start):
    server = start("patched")
    greedy = {generate(server, max_tokens=16, temperature=0) for _ in range(2)}
    sampled = {generate(server, max_tokens=16, temperature=1.0) for _ in range(4)}
    assert len(greedy) == 1
    assert len(sampled) >= 2, sampled


# --- graceful-shutdown ----------------------------------------------------------------------------


def test_sigterm_lets_the_generation_in_flight_finish_then_exits_0(start):
    server = start("patched")
    with ThreadPoolExecutor(1) as pool:
        answer = pool.submit(generate, server, 64)
        time.sleep(1)
        harness.docker("kill", "--signal", "TERM", server.container)
        assert answer.result().strip()
    assert harness.exit_code(server, timeout=60) == 0
    assert "shimmy stopped" in harness.logs(server)


def test_a_generation_longer_than_the_bound_is_cut_off_at_the_bound(start):
    server = start("patched", SHIMMY_SHUTDOWN_TIMEOUT="2")
    cut_off = []

    def ask_for_long():
        try:
            harness.request(server.url + "/api/generate", {
                "model": server.model, "prompt": PROMPT, "max_tokens": 3000, "stream": False,
            }, timeout=60)  # fmt: skip
        except OSError as error:  # the connection ends with the process: that is the point
            cut_off.append(error)

    asking = threading.Thread(target=ask_for_long, daemon=True)
    asking.start()
    time.sleep(1)
    harness.docker("kill", "--signal", "TERM", server.container)
    began = time.monotonic()
    assert harness.exit_code(server, timeout=30) == 0
    assert time.monotonic() - began < 2 + 3
    asking.join(10)
    assert cut_off, "the generation outlived its bound"


def test_shimmy_as_published_ignores_sigterm(start):
    server = start("pristine")
    harness.docker("kill", "--signal", "TERM", server.container)
    with pytest.raises(subprocess.TimeoutExpired):
        harness.exit_code(server, timeout=5)


# --- client-disconnect ----------------------------------------------------------------------------


@pytest.mark.parametrize("stream", [False, True], ids=["whole", "streamed"])
def test_a_client_that_leaves_frees_its_context(start, stream):
    server = start("patched", SHIMMY_MAX_PARALLEL="1")
    walk_away(server, stream)
    began = time.monotonic()
    assert generate(server, max_tokens=8).strip()
    # 3000 tokens on two cores take minutes; the one context is free again at once.
    assert time.monotonic() - began < 20
    assert "client went away: generation stopped at token" in harness.logs(server)


# --- the patch step of the build ------------------------------------------------------------------


def test_a_patch_that_no_longer_applies_fails_the_build_naming_it(images, tmp_path):
    settings, _ = images["patched"]
    context = tmp_path / "docker"
    shutil.copytree(harness.ROOT / "docker", context, ignore=shutil.ignore_patterns("build"))
    stale = context / "patches" / f"shimmy-{facts.PATCHED_RELEASE}" / facts.patch_file("sampler")
    # A context line upstream no longer has: the hunk cannot find its place.
    text = stale.read_text()
    stale.write_text(
        text.replace("\n         ctx.decode(&mut batch)?;", "\n         ctx.decode(&mut a_batch)?;", 1)
    )
    assert stale.read_text() != text
    dockerfile = tmp_path / "Dockerfile"
    dockerfile.write_text(harness.render_dockerfile(settings.build))
    build = [harness.DOCKER, "build", "--progress=plain", "-f", str(dockerfile), "--target", "builder"]
    result = subprocess.run(
        [*build, str(context)], capture_output=True, text=True, env={**os.environ, "DOCKER_BUILDKIT": "1"}
    )
    assert result.returncode != 0
    message = "shimmy patch 0001-sampler.patch no longer applies to shimmy 1.9.0: refresh it"
    assert f"{message} (docker/patches/README.md)" in result.stdout + result.stderr
