"""benchmarks/gpu/benchmark.py end to end against a stand-in shimmy: proof verdicts and arithmetic.

The stand-in is a small HTTP server with shimmy 1.9's routes and log lines; the real binary was
measured on a GPU (docs/gpu-results.md). This checks the script's logic without a GPU.
"""

import importlib.util
import json
import struct
import sys
import textwrap

import pytest

from tests.program import ROOT

spec = importlib.util.spec_from_file_location("gpu_benchmark", ROOT / "benchmarks" / "gpu" / "benchmark.py")
benchmark = importlib.util.module_from_spec(spec)
sys.modules[spec.name] = benchmark  # dataclasses look their module up
spec.loader.exec_module(benchmark)

FAKE_SHIMMY = textwrap.dedent(
    """\
    #!{python}
    import json, os, sys, time
    from http.server import BaseHTTPRequestHandler, HTTPServer

    args = sys.argv[1:]
    backend = args[args.index("--gpu-backend") + 1]
    host, port = args[args.index("--bind") + 1].rsplit(":", 1)
    on_gpu = 33 if backend == "cuda" and os.environ.get("FAKE_OFFLOAD", "all") == "all" else 0
    print("ggml_cuda_init: found 1 CUDA devices:", flush=True)

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            self.send_response(200); self.end_headers(); self.wfile.write(b'{{"status":"ok"}}')

        def do_POST(self):
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            print(f"load_tensors: offloaded {{on_gpu}}/33 layers to GPU", flush=True)
            if not on_gpu:
                print("load_tensors: CPU_REPACK model buffer size = 1.00 MiB", flush=True)
            time.sleep((0.002 if on_gpu else 0.02) * body["max_tokens"])
            self.send_response(200); self.end_headers()
            if body["stream"]:
                for i in range(body["max_tokens"]):
                    self.wfile.write(f"data: t{{i}}\\n\\n".encode())
                self.wfile.write(b"data: [DONE]\\n\\n")
            else:
                self.wfile.write(json.dumps({{"response": "hello " * body["max_tokens"]}}).encode())

        def log_message(self, *a):
            pass

    HTTPServer((host, int(port)), Handler).serve_forever()
    """
)


def write_gguf(path, tensors):
    """A minimal GGUF v3: no metadata, tensors of the given byte sizes (type F32, 1-D)."""
    header = struct.pack("<4sIQQ", b"GGUF", 3, len(tensors), 0)
    infos, offset = b"", 0
    for name, size in tensors:
        encoded = name.encode()
        infos += struct.pack("<Q", len(encoded)) + encoded + struct.pack("<IQIQ", 1, size // 4, 0, offset)
        offset += size
    head = header + infos
    padding = b"\0" * (-len(head) % 32)
    path.write_bytes(head + padding + b"\1" * offset)


def test_bytes_per_token_counts_one_embedding_row_unless_tied(tmp_path):
    model = tmp_path / "m.gguf"
    write_gguf(model, [("token_embd.weight", 4096), ("blk.0.attn_q.weight", 1024), ("output.weight", 2048)])
    _, tensors = benchmark.gguf_tensors(str(model))
    assert {t.name: t.size for t in tensors} == {
        "token_embd.weight": 4096,
        "blk.0.attn_q.weight": 1024,
        "output.weight": 2048,
    }
    assert benchmark.bytes_per_token(tensors) == 1024 + 2048
    write_gguf(model, [("token_embd.weight", 4096), ("blk.0.attn_q.weight", 1024)])
    assert benchmark.bytes_per_token(benchmark.gguf_tensors(str(model))[1]) == 4096 + 1024


@pytest.fixture
def fake_run(tmp_path, monkeypatch, capsys):
    shimmy = tmp_path / "shimmy"
    shimmy.write_text(FAKE_SHIMMY.format(python=sys.executable))
    shimmy.chmod(0o755)
    model = tmp_path / "phi3.gguf"
    write_gguf(model, [("blk.0.ffn_up.weight", 1 << 20)])

    def run(offload):
        monkeypatch.setenv("FAKE_OFFLOAD", offload)
        out_json = tmp_path / f"{offload}.json"
        code = benchmark.main(
            [
                "--shimmy", str(shimmy), "--model", str(model), "--decode-tokens", "41",
                "--e2e-tokens", "5", "--repeats", "1", "--bandwidth-gbs", "1",
                "--log-dir", str(tmp_path / "logs"), "--json", str(out_json),
            ]
        )  # fmt: skip
        return code, capsys.readouterr().out, json.loads(out_json.read_text())

    return run


def test_honest_cuda_and_cpu_runs_pass_with_a_ratio(fake_run):
    code, out, results = fake_run("all")
    assert code == 0, out
    assert "PASS: proof lines as expected" in out
    (entry,) = results["models"].values()
    # Stand-in: 0.002 s/token on "GPU", 0.02 s/token on "CPU".
    assert 4 < entry["gpu_cpu_decode_ratio"] < 12
    assert entry["runs"]["cuda"]["proof"]["offloaded"] == [33, 33]


def test_cuda_run_without_offload_fails(fake_run):
    code, out, _ = fake_run("none")
    assert code == 1
    assert "FAIL: CUDA run: not all layers offloaded to the GPU ((0, 33))" in out
