"""Proves that a shimmy binary runs on the GPU and measures it against the CPU, on any NVIDIA node.

For each model the same binary is started twice with the Deployment's arguments
(`serve --bind ADDR:PORT --gpu-backend cuda|cpu --model-path FILE`, RUST_LOG=info), and each run
is measured through shimmy's HTTP server:

- proof lines in its log (llama.cpp's, parsed by shimmy_gpu/pod/gpu_proof.py, the same code as the
  verification Job): the run fails when the CUDA run lacks `ggml_cuda_init: found N CUDA devices`
  or `offloaded N/N layers to GPU` with all layers, or when the CPU run offloads any layer;
- load: request sent until the streamed response's headers (shimmy v1 loads the model on every
  request before it answers);
- time to first token: request sent until the first streamed token;
- decode tokens/s: between the first and the last streamed token of a long answer;
- end to end: a 30-token `POST /api/generate` with `"stream": false` (median of a few);
- GPU:CPU decode ratio, and GPU decode as a fraction of the memory-bandwidth limit: tokens/s times
  the weight bytes read per token (every tensor but the token embedding, of which one row is
  read; tied output weights count) divided by the GPU's bandwidth. KV-cache reads are left out.

Standard library only, since the GPU machine has a bare python3 and no network; the helpers that
peers.py, load.py and prune_proof.py share live here.
Run from the repository root:
  python3 benchmarks/gpu/benchmark.py --shimmy ./shimmy --model /models/a.gguf [--model ...]
Exit status 1 when a proof check fails.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import signal
import socket
import statistics
import struct
import subprocess
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from shimmy_gpu.pod.gpu_proof import Answer, Proof, find_proof, proof_problems
from shimmy_gpu.pod.gpu_proof import decode_rate as gpu_decode_rate

PROMPT = "Write a short story about a lighthouse keeper who finds a message in a bottle."

# Peak memory bandwidth in GB/s by the vendor's data sheets, keyed by nvidia-smi's name.
BANDWIDTH_GBS = {
    "NVIDIA H100 80GB HBM3": 3350,
    "NVIDIA H100 PCIe": 2000,
    "NVIDIA H100 NVL": 3900,
    "NVIDIA H200": 4800,
    "NVIDIA A100-SXM4-80GB": 2039,
    "NVIDIA A100 80GB PCIe": 1935,
    "NVIDIA A100-SXM4-40GB": 1555,
    "NVIDIA A100-PCIE-40GB": 1555,
    "NVIDIA L4": 300,
    "NVIDIA A10": 600,
    "NVIDIA L40S": 864,
    "Tesla T4": 320,
}


# --- GGUF: which bytes a decoded token reads -------------------------------------------------

GGUF_SCALARS = {0: "B", 1: "b", 2: "H", 3: "h", 4: "I", 5: "i", 6: "f", 7: "?", 10: "Q", 11: "q", 12: "d"}
GGUF_STRING, GGUF_ARRAY = 8, 9


@dataclass(frozen=True)
class TensorInfo:
    name: str
    offset: int
    size: int  # bytes in the file, up to the next tensor (alignment padding included)


def _read_value(f, kind: int):
    if kind == GGUF_STRING:
        (length,) = struct.unpack("<Q", f.read(8))
        return f.read(length).decode("utf-8", "replace")
    if kind == GGUF_ARRAY:
        item_kind, count = struct.unpack("<IQ", f.read(12))
        return [_read_value(f, item_kind) for _ in range(count)]
    fmt = "<" + GGUF_SCALARS[kind]
    return struct.unpack(fmt, f.read(struct.calcsize(fmt)))[0]


def gguf_tensors(path: str) -> tuple[dict, list[TensorInfo]]:
    """The metadata and the tensors of a GGUF file (sizes from the offsets, any quantisation)."""
    with open(path, "rb") as f:
        magic, _version, n_tensors, n_kv = struct.unpack("<4sIQQ", f.read(24))
        if magic != b"GGUF":
            raise ValueError(f"{path} is not a GGUF file")
        meta = {}
        for _ in range(n_kv):
            key = _read_value(f, GGUF_STRING)
            (kind,) = struct.unpack("<I", f.read(4))
            value = _read_value(f, kind)
            if kind != GGUF_ARRAY:
                meta[key] = value
        infos = []
        for _ in range(n_tensors):
            name = _read_value(f, GGUF_STRING)
            (n_dims,) = struct.unpack("<I", f.read(4))
            f.read(8 * n_dims + 4)  # dimensions, type
            (offset,) = struct.unpack("<Q", f.read(8))
            infos.append((name, offset))
        alignment = meta.get("general.alignment", 32)
        data_start = -(-f.tell() // alignment) * alignment
    data_size = os.path.getsize(path) - data_start
    infos.sort(key=lambda item: item[1])
    ends = [offset for _, offset in infos[1:]] + [data_size]
    return meta, [TensorInfo(n, o, end - o) for (n, o), end in zip(infos, ends, strict=True)]


def bytes_per_token(tensors: list[TensorInfo]) -> int:
    """Weight bytes one decode step reads: the token embedding only when it doubles as output."""
    names = {t.name for t in tensors}
    tied = "output.weight" not in names
    return sum(t.size for t in tensors if t.name != "token_embd.weight" or tied)


# --- running shimmy ----------------------------------------------------------------------------


def model_name(path: str) -> str:
    """shimmy's name for the model given by `--model-path`: the file stem, as it is."""
    return Path(path).stem


def shimmy_command(binary: str, bind: str, backend: str, model: str) -> list[str]:
    """The Deployment's arguments (shimmy_gpu.pod_spec.shimmy_args) for one backend."""
    return [binary, "serve", "--bind", bind, "--gpu-backend", backend, "--model-path", model]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_healthy(port: int, process: subprocess.Popen, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"shimmy exited with status {process.returncode} before it answered")
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            connection.request("GET", "/health")
            if connection.getresponse().status == 200:
                return
        except OSError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"shimmy did not answer /health within {timeout:.0f}s")


def generate_body(model: str, max_tokens: int, stream: bool) -> str:
    return json.dumps({"model": model, "prompt": PROMPT, "max_tokens": max_tokens, "stream": stream})


@dataclass(frozen=True)
class Stream:
    headers_s: float  # request sent -> response headers (shimmy loads the model before answering)
    first_event_s: float  # request sent -> first token event
    done_s: float  # request sent -> `[DONE]`
    tokens: int


def sse_event_times(lines, clock) -> tuple[list[float], float]:
    """Arrival time of each server-sent event before `[DONE]` (an event ends at a blank line), and
    the time `[DONE]` arrived."""
    times, data = [], None
    for raw in lines:
        line = raw.decode("utf-8", "replace").rstrip("\r\n")
        if line.startswith("data:"):
            data = line[5:].strip() if data is None else data + "\n" + line[5:].strip()
        elif line == "" and data is not None:
            if data == "[DONE]":
                break
            times.append(clock())
            data = None
    return times, clock()


def stream_generate(port: int, model: str, max_tokens: int, timeout: float) -> Stream:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    headers = {"Content-Type": "application/json", "Accept": "text/event-stream"}
    start = time.monotonic()
    connection.request("POST", "/api/generate", generate_body(model, max_tokens, True), headers)
    response = connection.getresponse()
    answered = time.monotonic()
    if response.status != 200:
        raise RuntimeError(f"streaming generate answered {response.status}: {response.read()[:200]!r}")
    times, done = sse_event_times(response, time.monotonic)
    connection.close()
    if not times:
        raise RuntimeError("streaming generate returned no tokens")
    return Stream(answered - start, times[0] - start, done - start, len(times))


def decode_rate(short: list[Stream], long: list[Stream]) -> float:
    """The post-deploy check's rule (long answer against a 1-token answer) on medians of runs."""

    def median_answer(streams: list[Stream]) -> Answer:
        seconds = statistics.median(s.done_s for s in streams)
        return Answer(seconds, statistics.median(s.tokens for s in streams))

    return gpu_decode_rate(median_answer(short), median_answer(long))


def plain_generate(port: int, model: str, max_tokens: int, timeout: float) -> tuple[float, str]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    start = time.monotonic()
    connection.request(
        "POST", "/api/generate", generate_body(model, max_tokens, False), {"Content-Type": "application/json"}
    )
    response = connection.getresponse()
    body = response.read()
    elapsed = time.monotonic() - start
    connection.close()
    if response.status != 200:
        raise RuntimeError(f"generate answered {response.status}: {body[:200]!r}")
    return elapsed, json.loads(body)["response"]


@dataclass(frozen=True)
class Run:
    model: str
    backend: str
    command: list[str]
    proof: Proof
    first_request_s: float
    short: list[Stream]  # 1-token answers
    long: list[Stream]  # --decode-tokens answers
    decode_tokens_per_s: float
    e2e_tokens: int
    e2e_samples_s: list[float]
    e2e_response: str
    log: str

    @property
    def load_s(self) -> float:
        return statistics.median(s.headers_s for s in self.short)

    @property
    def first_token_s(self) -> float:
        return statistics.median(s.done_s for s in self.short)

    @property
    def e2e_s(self) -> float:
        return statistics.median(self.e2e_samples_s)


def run_backend(options: argparse.Namespace, model_path: str, backend: str) -> Run:
    port = options.port or free_port()
    command = shimmy_command(options.shimmy, f"{options.bind}:{port}", backend, model_path)
    log_path = Path(options.log_dir, f"{model_name(model_path)}-{backend}.log")
    log_path.parent.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "RUST_LOG": options.rust_log}
    name, timeout, repeats = model_name(model_path), options.request_timeout, options.repeats
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            command, stdout=log, stderr=subprocess.STDOUT, env=env, start_new_session=True
        )
        try:
            wait_healthy(port, process, options.start_timeout)
            # The first request initialises the backend (CUDA context) and warms the page cache.
            first, _ = plain_generate(port, name, 1, timeout)
            short = [stream_generate(port, name, 1, timeout) for _ in range(repeats)]
            long = [stream_generate(port, name, options.decode_tokens, timeout) for _ in range(repeats)]
            samples, text = [], ""
            for _ in range(repeats):
                elapsed, text = plain_generate(port, name, options.e2e_tokens, timeout)
                samples.append(elapsed)
        finally:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
    log_text = log_path.read_text(errors="replace")
    return Run(
        model=model_path,
        backend=backend,
        command=command,
        proof=find_proof(log_text),
        first_request_s=first,
        short=short,
        long=long,
        decode_tokens_per_s=decode_rate(short, long),
        e2e_tokens=options.e2e_tokens,
        e2e_samples_s=samples,
        e2e_response=text,
        log=str(log_path),
    )


def proof_lines(proof: Proof) -> list[str]:
    found = []
    if proof.cuda_devices:
        found.append(f"ggml_cuda_init found {proof.cuda_devices} device(s)")
    if proof.offloaded:
        found.append(f"offloaded {proof.offloaded[0]}/{proof.offloaded[1]} layers")
    if proof.cpu_fallback:
        found.append("CPU_REPACK/dev = CPU lines")
    return found


def proof_failures(run: Run) -> list[str]:
    """Why this run's log contradicts its backend (empty: it does not)."""
    offloaded = run.proof.offloaded
    if run.backend == "cuda":
        problems = []
        if run.proof.cuda_devices < 1:
            problems.append("CUDA run: no `ggml_cuda_init: found N CUDA devices` line")
        if offloaded is None or offloaded[0] == 0 or offloaded[0] < offloaded[1]:
            problems.append(f"CUDA run: not all layers offloaded to the GPU ({offloaded})")
        return problems
    if offloaded is not None and offloaded[0] > 0:
        return [f"CPU run: {offloaded[0]}/{offloaded[1]} layers offloaded to the GPU"]
    return []


def gpu_info() -> dict[str, str]:
    try:
        out = subprocess.run(
            ["nvidia-smi", "--query-gpu=name,driver_version,memory.total", "--format=csv,noheader"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.splitlines()[0]
    except (OSError, subprocess.CalledProcessError, IndexError):
        return {}
    name, driver, memory = (part.strip() for part in out.split(","))
    return {"name": name, "driver": driver, "memory": memory}


def report(runs: list[Run], bandwidth_gbs: float | None, weights: dict[str, int]) -> tuple[list[str], dict]:
    """Printable lines and a JSON summary, per model: each backend, the ratio, bandwidth use."""
    lines, summary = [], {}
    for model in dict.fromkeys(r.model for r in runs):
        by_backend = {r.backend: r for r in runs if r.model == model}
        per_token = weights[model]
        lines.append(f"== {model_name(model)} ({per_token / 1e9:.3f} GB of weights read per token)")
        entry: dict = {"bytes_per_token": per_token, "runs": {}}
        for backend, run in by_backend.items():
            found = proof_lines(run.proof)
            last = run.long[-1]
            lines += [
                f"-- {backend}: {' '.join(run.command)}",
                f"   proof lines: {', '.join(found) or 'none'}",
                f"   first request (backend init + load + 1 token): {run.first_request_s:.3f} s",
                f"   load (request -> response headers): {run.load_s:.3f} s",
                f"   time to first token (1-token answer, load included): {run.first_token_s:.3f} s",
                f"   decode: {run.decode_tokens_per_s:.1f} tokens/s"
                f" ({last.tokens}-token answers against 1-token ones)",
                f"   streaming: first of {last.tokens} events at {last.first_event_s:.3f} s,"
                f" [DONE] at {last.done_s:.3f} s",
                f"   {run.e2e_tokens}-token /api/generate (stream false), end to end: "
                f"{run.e2e_s:.3f} s median (" + ", ".join(f"{x:.3f}" for x in run.e2e_samples_s) + ")",
            ]
            entry["runs"][backend] = {
                **asdict(run),
                "load_s": run.load_s,
                "first_token_s": run.first_token_s,
                "e2e_s": run.e2e_s,
            }
        if "cuda" in by_backend:
            gpu = by_backend["cuda"].decode_tokens_per_s
            if "cpu" in by_backend and by_backend["cpu"].decode_tokens_per_s:
                ratio = gpu / by_backend["cpu"].decode_tokens_per_s
                entry["gpu_cpu_decode_ratio"] = ratio
                lines.append(f"   GPU:CPU decode ratio: {ratio:.1f}x")
            if bandwidth_gbs:
                used = gpu * per_token / (bandwidth_gbs * 1e9)
                entry["bandwidth_fraction"] = used
                reads = gpu * per_token / 1e9
                lines.append(f"   GPU decode reads {reads:.0f} GB/s = {used:.1%} of {bandwidth_gbs:g} GB/s")
            problems = proof_problems(by_backend["cuda"].proof)
            entry["post_deploy_check_problems"] = problems
            verdict = problems or "pass"
            lines.append(f"   GPU proof (shimmy_gpu/pod/gpu_proof.py) on the CUDA log: {verdict}")
        summary[model] = entry
    return lines, summary


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shimmy", required=True, help="the shimmy binary")
    parser.add_argument("--model", action="append", required=True, help="a .gguf file (repeatable)")
    parser.add_argument("--backends", default="cuda,cpu")
    parser.add_argument("--bind", default="127.0.0.1", help="the Deployment binds 0.0.0.0")
    parser.add_argument("--port", type=int, default=0, help="0: a free port")
    parser.add_argument("--decode-tokens", type=int, default=256)
    parser.add_argument("--e2e-tokens", type=int, default=30)
    parser.add_argument("--repeats", type=int, default=3, help="of each timed request")
    parser.add_argument("--bandwidth-gbs", type=float, help="default: by the GPU's name (nvidia-smi)")
    parser.add_argument("--rust-log", default="info")
    parser.add_argument("--start-timeout", type=float, default=120)
    parser.add_argument("--request-timeout", type=float, default=600)
    parser.add_argument("--log-dir", default="benchmark-logs")
    parser.add_argument("--json", help="write the results here")
    options = parser.parse_args(argv)

    gpu = gpu_info()
    bandwidth = options.bandwidth_gbs or BANDWIDTH_GBS.get(gpu.get("name", ""))
    print(f"GPU: {gpu or 'none found'}; bandwidth limit: {f'{bandwidth:g} GB/s' if bandwidth else 'unknown'}")
    weights = {m: bytes_per_token(gguf_tensors(m)[1]) for m in options.model}
    runs = []
    for model in options.model:
        for backend in options.backends.split(","):
            runs.append(run_backend(options, model, backend))
    lines, summary = report(runs, bandwidth, weights)
    failures = [problem for run in runs for problem in proof_failures(run)]
    lines += [f"FAIL: {problem}" for problem in failures] or ["PASS: proof lines as expected for every run"]
    print("\n".join(lines))
    if options.json:
        results = {"gpu": gpu, "bandwidth_gbs": bandwidth, "models": summary}
        Path(options.json).write_text(json.dumps(results, indent=2))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
