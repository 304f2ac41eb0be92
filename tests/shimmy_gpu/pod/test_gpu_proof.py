"""The GPU proof the verification Job runs: proof lines, decode rate, a run against an HTTP server."""

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import ClassVar

import pytest

from shimmy_gpu.pod import gpu_proof

CUDA_LOG = """\
ggml_cuda_init: GGML_CUDA_FORCE_MMQ:    no
ggml_cuda_init: found 1 CUDA devices:
  Device 0: Tesla T4, compute capability 7.5, VMM: yes
llama_model_load_from_file_impl: using device CUDA0 (Tesla T4) - 14930 MiB free
load_tensors: offloading 32 repeating layers to GPU
load_tensors: offloaded 33/33 layers to GPU
llama_kv_cache_unified: layer   0: dev = CUDA0
"""
CPU_LOG = """\
load_tensors:   CPU_REPACK model buffer size =  1242.00 MiB
llama_kv_cache_unified: layer   0: dev = CPU
"""


def test_cuda_log_is_proof():
    proof = gpu_proof.find_proof(CUDA_LOG)
    assert proof == gpu_proof.Proof(cuda_devices=1, offloaded=(33, 33), cpu_fallback=False)
    assert gpu_proof.proof_problems(proof) == []


def test_cpu_log_is_refused_with_reasons():
    problems = gpu_proof.proof_problems(gpu_proof.find_proof(CPU_LOG))
    assert len(problems) == 3
    assert any("CUDA devices" in p for p in problems)
    assert any("offloaded" in p for p in problems)
    assert any("CPU fallback" in p for p in problems)


def test_cuda_build_started_on_cpu_is_refused():
    # A CUDA build logs ggml_cuda_init even with --gpu-backend cpu; only the offload count tells.
    log = CUDA_LOG.replace("offloaded 33/33", "offloaded 0/33")
    assert gpu_proof.proof_problems(gpu_proof.find_proof(log)) == ["only 0/33 layers offloaded to the GPU"]


def test_partial_offload_is_refused():
    log = CUDA_LOG.replace("offloaded 33/33", "offloaded 20/33")
    assert gpu_proof.proof_problems(gpu_proof.find_proof(log)) == ["only 20/33 layers offloaded to the GPU"]


def test_sse_tokens_stop_at_done():
    assert gpu_proof.sse_tokens(["data: Hel", "", "data: lo", "data: [DONE]", "data: late"]) == ["Hel", "lo"]


def test_decode_rate_cancels_load_and_prompt():
    short, long = gpu_proof.Answer(2.0, 1), gpu_proof.Answer(3.0, 65)
    assert gpu_proof.decode_rate(short, long) == pytest.approx(64.0)
    assert gpu_proof.decode_rate(short, gpu_proof.Answer(2.0, 1)) == 0.0


def test_verdict_enforces_the_minimum_decode_speed():
    proof = gpu_proof.find_proof(CUDA_LOG)
    fast = gpu_proof.Measurement(0.3, 80.0, 64)
    slow = gpu_proof.Measurement(0.3, 12.5, 64)
    assert gpu_proof.verdict(proof, fast, 40) == []
    assert gpu_proof.verdict(proof, slow, 40) == ["decode 12.5 tokens/s is below the required 40"]
    assert gpu_proof.verdict(proof, gpu_proof.Measurement(float("inf"), 0.0, 0), 0) == [
        "the generate request streamed no tokens"
    ]


SECONDS_PER_TOKEN = 0.02


class _FakeShimmy(BaseHTTPRequestHandler):
    """Answers like shimmy 1.9 does to "stream": true: it decodes first (here: sleeps per token),
    then sends every event at once. A stand-in for the HTTP shape, not shimmy."""

    requests: ClassVar[list[dict]] = []

    def do_POST(self):
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        self.requests.append(body)
        time.sleep(SECONDS_PER_TOKEN * body["max_tokens"])
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.end_headers()
        for i in range(body["max_tokens"]):
            self.wfile.write(f"data: tok{i}\n\n".encode())
        self.wfile.write(b"data: [DONE]\n\n")

    def log_message(self, *args):
        pass


@pytest.fixture
def fake_shimmy():
    server = ThreadingHTTPServer(("127.0.0.1", 0), _FakeShimmy)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


def test_measure_times_a_long_answer_against_a_one_token_answer(fake_shimmy):
    measurement = gpu_proof.measure(fake_shimmy, "phi-3", max_tokens=21, timeout=10)
    assert measurement.tokens == 21
    # 20 extra tokens at 0.02 s each: at most about 50 tokens/s however loaded the machine, while
    # the events' arrival times (all at once) would give thousands.
    assert 0 < measurement.decode_tokens_per_second < 100
    assert [r["max_tokens"] for r in _FakeShimmy.requests[-3:]] == [1, 1, 21]
    assert all(r["stream"] is True and r["model"] == "phi-3" for r in _FakeShimmy.requests[-3:])


@pytest.mark.parametrize(("log", "code"), [(CUDA_LOG, 0), (CPU_LOG, 1)])
def test_main_exit_code_follows_the_proof(monkeypatch, fake_shimmy, capsys, log, code):
    env = {
        "SHIMMY_URL": fake_shimmy,
        "MODEL": "phi-3",
        "MAX_TOKENS": "4",
        "TIMEOUT": "10",
        "NAMESPACE": "shimmy",
        "POD_SELECTOR": "app.kubernetes.io/name=shimmy",
        "CONTAINER": "shimmy",
        "MIN_DECODE_TOKENS_PER_SECOND": "0",
    }
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    seen = {}

    def logs(namespace, selector, container):
        seen.update(namespace=namespace, selector=selector, container=container)
        return log

    monkeypatch.setattr(gpu_proof, "pod_logs", logs)
    assert gpu_proof.main() == code
    assert seen == {"namespace": "shimmy", "selector": "app.kubernetes.io/name=shimmy", "container": "shimmy"}
    out = capsys.readouterr()
    assert ("PASS" in out.out) == (code == 0)
