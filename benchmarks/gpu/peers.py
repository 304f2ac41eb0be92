"""shimmy next to llama.cpp's own server and its kernel-only ceiling, same GPU, same GGUF, one run.

For each model, in this order and on the same machine:

- llama-bench (`-ngl 99 -p 0 -n 128 -r 3`): decode tokens/s of llama.cpp's graph alone, no
  server, no sampling: the software ceiling.
- shimmy, started as the Deployment starts it (`serve --bind ... --gpu-backend cuda --model-path`),
  through `POST /api/generate`: time to first token (a whole 1-token answer: shimmy 1.9.0 loads the
  model for every request), decode tokens/s ((N-1) tokens over the time a long answer takes more
  than a 1-token one, medians), a 30-token answer end to end (`"stream": false`).
  Then part 2: the same with request parameters that shorten shimmy's sampler chain (`top_p: 1`,
  `top_k: 1`, `temperature: 0`), and again with CUDA graphs off (GGML_CUDA_DISABLE_GRAPHS=1).
- llama-server (`-ngl 999 -c 4096 -np 1`, shimmy's context size, one slot) through `POST
  /completion` with shimmy's default sampling values (temperature 0.7, top_p 0.9, top_k 40,
  repeat_penalty 1.1 over 64 tokens), `cache_prompt: false` (every request evaluates its prompt, as
  shimmy's do) and `ignore_eos: true` (answers of the asked length; token counts come from the reply).
  Measured the same way; then once with `temperature: 0` (greedy).
- the physical limit: weight bytes read per token (benchmark.py's count) over the GPU's memory
  bandwidth (data sheet), as tokens/s.

Standard library only (plus the repository's benchmarks/gpu/benchmark.py and
shimmy_gpu/pod/gpu_proof.py), for the bare python3 of the GPU machine; one measurement run.
  python3 benchmarks/gpu/peers.py --shimmy BIN --llama-server BIN --llama-bench BIN --model M.gguf ...
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import signal
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
sys.path.insert(0, str(Path(__file__).resolve().parent))
from benchmark import (
    BANDWIDTH_GBS,
    PROMPT,
    bytes_per_token,
    free_port,
    gguf_tensors,
    gpu_info,
    model_name,
    shimmy_command,
    sse_event_times,
    wait_healthy,
)

from shimmy_gpu.pod.gpu_proof import find_proof, proof_problems

SHIMMY_DEFAULTS = {"temperature": 0.7, "top_p": 0.9, "top_k": 40}  # GenOptions::default(), v1.9.0
# Request parameters that shorten shimmy's chain temp -> top_p -> top_k -> penalties -> greedy.
SHIMMY_VARIANTS = {
    "defaults": {},
    "top_p 1": {"top_p": 1.0},
    "top_p 1, top_k 1": {"top_p": 1.0, "top_k": 1},
    "temperature 0": {"temperature": 0.0},
}
LLAMA_SERVER_SAMPLING = {
    "temperature": 0.7,
    "top_p": 0.9,
    "top_k": 40,
    "repeat_penalty": 1.1,
    "repeat_last_n": 64,
}


@dataclass
class Timed:
    seconds: float
    tokens: int
    text: str = ""
    server_timings: dict = field(default_factory=dict)


def post(
    port: int, path: str, body: dict, timeout: float
) -> tuple[float, int, bytes, http.client.HTTPResponse]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    start = time.monotonic()
    connection.request("POST", path, json.dumps(body), {"Content-Type": "application/json"})
    response = connection.getresponse()
    data = response.read()
    elapsed = time.monotonic() - start
    connection.close()
    return elapsed, response.status, data, response


def shimmy_request(port: int, model: str, max_tokens: int, params: dict, timeout: float) -> Timed:
    """Streamed (to count tokens: one event per token, all sent at the end by v1.9.0)."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    body = {"model": model, "prompt": PROMPT, "max_tokens": max_tokens, "stream": True, **params}
    start = time.monotonic()
    connection.request("POST", "/api/generate", json.dumps(body), {"Content-Type": "application/json"})
    response = connection.getresponse()
    if response.status != 200:
        raise RuntimeError(f"shimmy answered {response.status}: {response.read()[:200]!r}")
    times, done = sse_event_times(response, time.monotonic)
    connection.close()
    return Timed(done - start, len(times))


def shimmy_plain(port: int, model: str, max_tokens: int, params: dict, timeout: float) -> Timed:
    body = {"model": model, "prompt": PROMPT, "max_tokens": max_tokens, "stream": False, **params}
    elapsed, status, data, _ = post(port, "/api/generate", body, timeout)
    if status != 200:
        raise RuntimeError(f"shimmy answered {status}: {data[:200]!r}")
    return Timed(elapsed, -1, json.loads(data)["response"])


def server_request(port: int, max_tokens: int, params: dict, timeout: float) -> Timed:
    body = {
        "prompt": PROMPT,
        "n_predict": max_tokens,
        "stream": False,
        "cache_prompt": False,
        "ignore_eos": True,
        **LLAMA_SERVER_SAMPLING,
        **params,
    }
    elapsed, status, data, _ = post(port, "/completion", body, timeout)
    if status != 200:
        raise RuntimeError(f"llama-server answered {status}: {data[:200]!r}")
    reply = json.loads(data)
    return Timed(
        elapsed, int(reply.get("tokens_predicted", -1)), reply.get("content", ""), reply.get("timings", {})
    )


@dataclass
class Measured:
    """Medians of a few 1-token, long and 30-token answers of one server set-up."""

    label: str
    first_token_s: float
    decode_tokens_per_s: float
    e2e_s: float
    e2e_tokens: int
    long_tokens: int
    e2e_text: str = ""
    notes: dict = field(default_factory=dict)

    @property
    def ms_per_token(self) -> float:
        return 1000 / self.decode_tokens_per_s if self.decode_tokens_per_s else float("nan")


def decode_rate(short: list[Timed], long: list[Timed]) -> float:
    tokens = statistics.median(t.tokens for t in long) - statistics.median(t.tokens for t in short)
    seconds = statistics.median(t.seconds for t in long) - statistics.median(t.seconds for t in short)
    return tokens / seconds if tokens > 0 and seconds > 0 else 0.0


def measure(label: str, ask, repeats: int, long_tokens: int, e2e_tokens: int | None, e2e=None) -> Measured:
    short = [ask(1) for _ in range(repeats)]
    long = [ask(long_tokens) for _ in range(repeats)]
    e2e_runs = [(e2e or ask)(e2e_tokens) for _ in range(repeats)] if e2e_tokens else []
    return Measured(
        label=label,
        first_token_s=statistics.median(t.seconds for t in short),
        decode_tokens_per_s=decode_rate(short, long),
        e2e_s=statistics.median(t.seconds for t in e2e_runs) if e2e_runs else float("nan"),
        e2e_tokens=e2e_tokens or 0,
        long_tokens=int(statistics.median(t.tokens for t in long)),
        e2e_text=e2e_runs[-1].text if e2e_runs else "",
        notes={"server_timings": long[-1].server_timings} if long[-1].server_timings else {},
    )


class Server:
    """A server process in its own session, its output in a log file; stopped on exit."""

    def __init__(self, command: list[str], log: Path, env: dict | None = None, health_timeout: float = 180):
        self.command, self.log = command, log
        log.parent.mkdir(parents=True, exist_ok=True)
        self.port = int(command[command.index("--port") + 1]) if "--port" in command else None
        self._file = open(log, "wb")  # noqa: SIM115
        self.process = subprocess.Popen(
            command,
            stdout=self._file,
            stderr=subprocess.STDOUT,
            env={**os.environ, **(env or {})},
            start_new_session=True,
        )
        self.health_timeout = health_timeout

    def wait(self, port: int) -> None:
        wait_healthy(port, self.process, self.health_timeout)

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
        self._file.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()


def run_llama_bench(binary: str, model: str, log_dir: Path) -> dict:
    command = [binary, "-m", model, "-ngl", "99", "-p", "0", "-n", "128", "-r", "3", "-o", "json"]
    done = subprocess.run(command, capture_output=True, text=True, timeout=300)
    (log_dir / f"{model_name(model)}-llama-bench.log").write_text(done.stderr + done.stdout)
    if done.returncode != 0:
        return {"command": command, "error": done.stderr[-500:]}
    rows = json.loads(done.stdout)
    row = rows[-1]
    return {
        "command": command,
        "tokens_per_s": row["avg_ts"],
        "stddev": row.get("stddev_ts"),
        "flash_attn": row.get("flash_attn"),
        "build_commit": row.get("build_commit"),
        "build_number": row.get("build_number"),
    }


def run_shimmy(options, engine: str, binary: str, model: str, log_dir: Path) -> tuple[list[Measured], dict]:
    name = model_name(model)
    results, extra = [], {}
    for graphs in ("on", "off"):
        port = free_port()
        command = shimmy_command(binary, f"127.0.0.1:{port}", "cuda", model)
        env = {"RUST_LOG": "info"}
        if graphs == "off":
            env["GGML_CUDA_DISABLE_GRAPHS"] = "1"
        log = log_dir / f"{name}-{engine}-graphs-{graphs}.log"
        with Server(command, log, env) as server:
            server.wait(port)
            shimmy_plain(port, name, 1, {}, options.timeout)  # CUDA init, page cache
            variants = SHIMMY_VARIANTS if graphs == "on" else {"defaults": {}}
            for label, params in variants.items():

                def ask(n, params=params, port=port):
                    return shimmy_request(port, name, n, params, options.timeout)

                def plain(n, params=params, port=port):
                    return shimmy_plain(port, name, n, params, options.timeout)

                full = label == "defaults" and graphs == "on"
                m = measure(
                    f"{engine}, {label}" + (", CUDA graphs off" if graphs == "off" else ""),
                    ask,
                    options.repeats,
                    options.decode_tokens if full else options.variant_tokens,
                    options.e2e_tokens if full else None,
                    plain,
                )
                results.append(m)
        text = log.read_text(errors="replace")
        proof = find_proof(text)
        extra[f"graphs_{graphs}"] = {
            "command": command,
            "env": env,
            "proof": proof.__dict__,
            "post_deploy_check": proof_problems(proof) or "pass",
        }
    return results, extra


def engines(specs: list[str]) -> list[tuple[str, str]]:
    """`NAME=BIN` (or a bare BIN, named shimmy) for each --shimmy, in the order given."""
    named = [spec.split("=", 1) if "=" in spec else ["shimmy", spec] for spec in specs]
    if len({name for name, _ in named}) != len(named):
        raise SystemExit("--shimmy: each build needs a name of its own (NAME=BIN)")
    return [(name, binary) for name, binary in named]


def run_llama_server(options, model: str, log_dir: Path) -> tuple[list[Measured], dict]:
    port = free_port()
    command = [
        options.llama_server,
        "-m",
        model,
        "-ngl",
        "999",
        "-c",
        "4096",
        "-np",
        "1",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
    ]
    log = log_dir / f"{model_name(model)}-llama-server.log"
    results = []
    with Server(command, log) as server:
        server.wait(port)
        server_request(port, 1, {}, options.timeout)
        for label, params in (
            ("shimmy's sampling values", {}),
            ("temperature 0 (greedy)", {"temperature": 0.0}),
        ):

            def ask(n, params=params):
                return server_request(port, n, params, options.timeout)

            full = not params
            results.append(
                measure(
                    f"llama-server, {label}",
                    ask,
                    options.repeats,
                    options.decode_tokens if full else options.variant_tokens,
                    options.e2e_tokens if full else None,
                )
            )
    return results, {"command": command}


def row(m: Measured, reference: float | None, limit: float | None) -> str:
    share = f"{m.decode_tokens_per_s / reference:.0%}" if reference else "-"
    phys = f"{m.decode_tokens_per_s / limit:.1%}" if limit else "-"
    e2e = f"{m.e2e_s:.3f} s" if m.e2e_tokens else "-"
    return (
        f"| {m.label} | {m.first_token_s:.3f} s | {m.decode_tokens_per_s:.1f} | {m.ms_per_token:.2f} | {e2e} "
        f"| {share} | {phys} |"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--shimmy", action="append", required=True, metavar="[NAME=]BIN", help="repeat: several shimmy builds"
    )
    parser.add_argument("--llama-server", required=True)
    parser.add_argument("--llama-bench", required=True)
    parser.add_argument("--model", action="append", required=True)
    parser.add_argument("--decode-tokens", type=int, default=256)
    parser.add_argument("--variant-tokens", type=int, default=128)
    parser.add_argument("--e2e-tokens", type=int, default=30)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--timeout", type=float, default=300)
    parser.add_argument("--bandwidth-gbs", type=float)
    parser.add_argument("--log-dir", default="peers-logs")
    parser.add_argument("--json")
    options = parser.parse_args(argv)
    log_dir = Path(options.log_dir)
    log_dir.mkdir(parents=True, exist_ok=True)

    gpu = gpu_info()
    bandwidth = options.bandwidth_gbs or BANDWIDTH_GBS.get(gpu.get("name", ""))
    print(f"GPU: {gpu}; memory bandwidth by the data sheet: {bandwidth} GB/s", flush=True)
    summary = {"gpu": gpu, "bandwidth_gbs": bandwidth, "models": {}}
    failed = False
    for model in options.model:
        per_token = bytes_per_token(gguf_tensors(model)[1])
        limit = bandwidth * 1e9 / per_token if bandwidth else None
        bench = run_llama_bench(options.llama_bench, model, log_dir)
        print(f"llama-bench {model_name(model)}: {bench}", flush=True)
        shimmy, shimmy_extra = [], {}
        for engine, binary in engines(options.shimmy):
            measured, shimmy_extra[engine] = run_shimmy(options, engine, binary, model, log_dir)
            shimmy += measured
        server, server_extra = run_llama_server(options, model, log_dir)
        reference = next(m.decode_tokens_per_s for m in server if m.label.endswith("values"))
        lines = [
            f"== {model_name(model)}: {per_token / 1e9:.3f} GB of weights read per token; physical limit "
            + (
                f"{bandwidth:g} GB/s / {per_token / 1e9:.3f} GB = {limit:.0f} tokens/s"
                if limit
                else "unknown"
            ),
            "| engine, set-up | time to first token | decode tokens/s | ms/token | 30 tokens end to end "
            "| decode vs llama-server | decode vs physical limit |",
            "| --- | --- | --- | --- | --- | --- | --- |",
        ]
        lines += [row(m, reference, limit) for m in shimmy + server]
        if "tokens_per_s" in bench:
            tps = bench["tokens_per_s"]
            phys = f"{tps / limit:.1%}" if limit else "-"
            lines.append(
                f"| llama-bench tg128 (kernels only) | - | {tps:.1f} | {1000 / tps:.2f} | - "
                f"| {tps / reference:.0%} | {phys} |"
            )
        if limit:
            lines.append(
                f"| physical limit (bandwidth / bytes per token) | - | {limit:.0f} | {1000 / limit:.2f} "
                "| - | - | 100% |"
            )
        for engine, extra in shimmy_extra.items():
            check = extra["graphs_on"]["post_deploy_check"]
            answers = [m.e2e_text for m in shimmy if m.label.startswith(f"{engine}, ") and m.e2e_text]
            answer = answers[0] if answers else ""
            lines.append(f"{engine} proof (graphs on): {check}; 30-token answer {answer[:80]!r}")
            failed |= check != "pass"
        lines.append(f"llama-server 30-token answer {server[0].e2e_text[:80]!r}")
        print("\n".join(lines), flush=True)
        summary["models"][model] = {
            "bytes_per_token": per_token,
            "physical_limit_tokens_per_s": limit,
            "llama_bench": bench,
            "shimmy": [m.__dict__ for m in shimmy],
            "shimmy_runs": shimmy_extra,
            "llama_server": [m.__dict__ for m in server],
            "llama_server_run": server_extra,
            "table": lines,
        }
    if options.json:
        Path(options.json).write_text(json.dumps(summary, indent=2, default=str))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
