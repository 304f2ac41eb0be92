"""Concurrent requests against one server on the GPU: throughput, latency, GPU memory, errors.

For each concurrency C (default 1, 2, 4, 8, 16), C client threads send the same request (the
benchmark's prompt, --tokens new tokens) until 2*C requests (at least --min-requests) are answered
or failed. Measured per level:

- throughput: answered requests and generated tokens per second of the level's wall time;
- latency of each request (sent until the whole answer; shimmy 1.9.0 answers only at the end):
  p50, p95, max;
- errors: HTTP statuses other than 200, refused or reset connections, timeouts, by kind;
- peak GPU memory: `nvidia-smi --query-gpu=memory.used -lms 100` while the level runs, minus what
  was in use before the server started (another process may hold memory on purpose: --baseline);
- /health while loaded: a GET every 0.5 s; its worst latency and failures (Kubernetes probes);
- whether the server process is still alive; a dead one is restarted before the next level.

Servers: `shimmy` (the Deployment's arguments), `gate` (shimmy behind shimmy_gpu/pod/gate.py with
--limit), `llama-server` (-np slots, -c 4096 per slot; continuous batching). Standard library only,
for the bare python3 of the GPU machine.

  python3 benchmarks/gpu/load.py --server shimmy --binary ./shimmy --model M.gguf
  python3 benchmarks/gpu/load.py --server gate --binary ./shimmy --model M.gguf --limit 3
  python3 benchmarks/gpu/load.py --server llama-server --binary ./llama-server --model M.gguf --slots 4
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import json
import math
import subprocess
import sys
import threading
import time
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from benchmark import PROMPT, free_port, model_name
from peers import Server

GATE = str(Path(__file__).resolve().parents[2] / "shimmy_gpu" / "pod" / "gate.py")


def gpu_memory_used_mib() -> int:
    out = subprocess.run(
        ["nvidia-smi", "--query-gpu=memory.used", "--format=csv,noheader,nounits"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return int(out.split()[0])


class MemoryPeak:
    """Highest memory.used that nvidia-smi reports every 100 ms while the block runs."""

    def __enter__(self):
        self.peak = 0
        self.process = subprocess.Popen(
            ["nvidia-smi", "--query-gpu=memory.used", "--format=csv,noheader,nounits", "-lms", "100"],
            stdout=subprocess.PIPE,
            text=True,
        )
        self.thread = threading.Thread(target=self._read, daemon=True)
        self.thread.start()
        return self

    def _read(self):
        for line in self.process.stdout:
            with contextlib.suppress(ValueError, IndexError):
                self.peak = max(self.peak, int(line.split()[0]))

    def __exit__(self, *exc):
        time.sleep(0.3)
        self.process.terminate()
        self.process.wait()
        self.thread.join(timeout=2)


class HostMemoryPeak:
    """Highest resident memory of one process, from /proc/PID/status every 100 ms: all of it (VmRSS)
    and its anonymous part (RssAnon). A container's memory limit must hold the anonymous part (no
    swap); file-backed pages (the binary, the mapped model) can be dropped under pressure."""

    def __init__(self, pid: int):
        self.pid, self.rss_mib, self.anon_mib = pid, 0, 0

    def sample(self) -> None:
        with contextlib.suppress(OSError):
            fields = dict(
                line.split(":", 1) for line in Path(f"/proc/{self.pid}/status").read_text().splitlines()
            )
            self.rss_mib = max(self.rss_mib, int(fields["VmRSS"].split()[0]) // 1024)
            self.anon_mib = max(self.anon_mib, int(fields["RssAnon"].split()[0]) // 1024)

    def __enter__(self):
        self.sample()
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()
        return self

    def _run(self):
        while not self.stop.wait(0.1):
            self.sample()

    def __exit__(self, *exc):
        self.stop.set()
        self.thread.join(timeout=2)
        self.sample()


class HealthWatch:
    def __init__(self, port: int):
        self.port, self.latencies, self.failures = port, [], Counter()

    def __enter__(self):
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()
        return self

    def _run(self):
        while not self.stop.is_set():
            start = time.monotonic()
            try:
                connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=5)
                connection.request("GET", "/health")
                status = connection.getresponse().status
                connection.close()
                if status == 200:
                    self.latencies.append(time.monotonic() - start)
                else:
                    self.failures[f"HTTP {status}"] += 1
            except TimeoutError:
                self.failures["timeout (5 s)"] += 1
            except OSError as error:
                self.failures[type(error).__name__] += 1
            self.stop.wait(0.5)

    def __exit__(self, *exc):
        self.stop.set()
        self.thread.join(timeout=10)


def request_once(port: int, kind: str, model: str, tokens: int, timeout: float) -> tuple[str, float, int]:
    """('ok' or an error kind, seconds, tokens generated)."""
    if kind == "llama-server":
        path, body = (
            "/completion",
            {
                "prompt": PROMPT,
                "n_predict": tokens,
                "stream": False,
                "cache_prompt": False,
                "ignore_eos": True,
                "temperature": 0.7,
                "top_p": 0.9,
                "top_k": 40,
                "repeat_penalty": 1.1,
                "repeat_last_n": 64,
            },
        )
    else:
        path, body = "/api/generate", {"model": model, "prompt": PROMPT, "max_tokens": tokens, "stream": True}
    start = time.monotonic()
    try:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
        connection.request("POST", path, json.dumps(body), {"Content-Type": "application/json"})
        response = connection.getresponse()
        data = response.read()
        connection.close()
    except TimeoutError:
        return f"timeout ({timeout:g} s)", time.monotonic() - start, 0
    except (OSError, http.client.HTTPException) as error:
        return type(error).__name__, time.monotonic() - start, 0
    elapsed = time.monotonic() - start
    if response.status != 200:
        return f"HTTP {response.status}", elapsed, 0
    if kind == "llama-server":
        return "ok", elapsed, int(json.loads(data).get("tokens_predicted", 0))
    events = [x for x in data.split(b"\n\n") if x.startswith(b"data:") and x.strip() != b"data: [DONE]"]
    return "ok", elapsed, len(events)


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, math.ceil(q * len(ordered)) - 1))]


@dataclass
class Level:
    concurrency: int
    requests: int
    ok: int
    errors: dict
    wall_s: float
    requests_per_s: float
    tokens_per_s: float
    p50_s: float
    p95_s: float
    max_s: float
    peak_gpu_mib: int
    peak_gpu_over_baseline_mib: int
    peak_host_rss_mib: int
    peak_host_anon_mib: int
    health_max_s: float
    health_failures: dict
    server_alive: bool
    notes: list = field(default_factory=list)


def run_level(
    port: int,
    kind: str,
    model: str,
    concurrency: int,
    total: int,
    tokens: int,
    timeout: float,
    baseline: int,
    server: Server,
) -> Level:
    results: list[tuple[str, float, int]] = []
    lock = threading.Lock()
    issued = 0

    def worker():
        nonlocal issued
        while True:
            with lock:
                if issued >= total:
                    return
                issued += 1
            outcome = request_once(port, kind, model, tokens, timeout)
            with lock:
                results.append(outcome)

    with MemoryPeak() as memory, HostMemoryPeak(server.process.pid) as host, HealthWatch(port) as health:
        start = time.monotonic()
        threads = [threading.Thread(target=worker) for _ in range(concurrency)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        wall = time.monotonic() - start
    ok = [r for r in results if r[0] == "ok"]
    latencies = [r[1] for r in ok]
    return Level(
        concurrency=concurrency,
        requests=len(results),
        ok=len(ok),
        errors=dict(Counter(r[0] for r in results if r[0] != "ok")),
        wall_s=wall,
        requests_per_s=len(ok) / wall,
        tokens_per_s=sum(r[2] for r in ok) / wall,
        p50_s=percentile(latencies, 0.5),
        p95_s=percentile(latencies, 0.95),
        max_s=max(latencies, default=float("nan")),
        peak_gpu_mib=memory.peak,
        peak_gpu_over_baseline_mib=memory.peak - baseline,
        peak_host_rss_mib=host.rss_mib,
        peak_host_anon_mib=host.anon_mib,
        health_max_s=max(health.latencies, default=float("nan")),
        health_failures=dict(health.failures),
        server_alive=server.process.poll() is None,
    )


def start(options, log_dir: Path, run: int) -> tuple[list[Server], int]:
    """The server set-up; returns its processes and the port clients use."""
    name = model_name(options.model)
    if options.server == "llama-server":
        port = free_port()
        command = [
            options.binary,
            "-m",
            options.model,
            "-ngl",
            "999",
            "-c",
            str(4096 * options.slots),
            "-np",
            str(options.slots),
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
        ]
        server = Server(command, log_dir / f"{name}-llama-server-{run}.log")
        server.wait(port)
        return [server], port
    shimmy_port = free_port()
    command = [
        options.binary,
        "serve",
        "--bind",
        f"127.0.0.1:{shimmy_port}",
        "--gpu-backend",
        "cuda",
        "--model-path",
        options.model,
    ]
    shimmy = Server(command, log_dir / f"{name}-{options.server}-shimmy-{run}.log", {"RUST_LOG": "info"})
    shimmy.wait(shimmy_port)
    if options.server == "shimmy":
        return [shimmy], shimmy_port
    port = free_port()
    gate = Server(
        [
            sys.executable,
            GATE,
            "--listen",
            f"127.0.0.1:{port}",
            "--upstream",
            f"127.0.0.1:{shimmy_port}",
            "--limit",
            str(options.limit),
            "--queue",
            str(options.queue),
            "--queue-timeout",
            str(options.queue_timeout),
        ],
        log_dir / f"{name}-gate-{run}.log",
    )
    gate.wait(port)
    return [gate, shimmy], port


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--server", choices=("shimmy", "gate", "llama-server"), required=True)
    parser.add_argument("--binary", required=True)
    parser.add_argument("--model", required=True)
    parser.add_argument("--levels", default="1,2,4,8,16")
    parser.add_argument("--tokens", type=int, default=64)
    parser.add_argument("--min-requests", type=int, default=4)
    parser.add_argument("--timeout", type=float, default=180)
    parser.add_argument("--limit", type=int, default=1, help="gate: generation requests at once")
    parser.add_argument("--queue", type=int, default=64)
    parser.add_argument("--queue-timeout", type=float, default=300)
    parser.add_argument("--slots", type=int, default=4, help="llama-server: -np")
    parser.add_argument("--label", default="")
    parser.add_argument("--log-dir", default="load-logs")
    parser.add_argument("--json")
    options = parser.parse_args(argv)
    log_dir = Path(options.log_dir)
    log_dir.mkdir(parents=True, exist_ok=True)

    baseline = gpu_memory_used_mib()
    kind = "llama-server" if options.server == "llama-server" else "shimmy"
    label = options.label or options.server
    print(
        f"== load: {label} ({options.server}{f', limit {options.limit}' if options.server == 'gate' else ''}"
        f"{f', {options.slots} slots' if options.server == 'llama-server' else ''}), "
        f"{model_name(options.model)}, "
        f"{options.tokens}-token requests; GPU memory in use before start: {baseline} MiB",
        flush=True,
    )
    servers, port = start(options, log_dir, 0)
    levels, restarts = [], 0
    try:
        for concurrency in (int(x) for x in options.levels.split(",")):
            if servers[-1].process.poll() is not None or servers[0].process.poll() is not None:
                for s in servers:
                    s.stop()
                restarts += 1
                servers, port = start(options, log_dir, restarts)
            total = max(2 * concurrency, options.min_requests)
            level = run_level(
                port,
                kind,
                model_name(options.model),
                concurrency,
                total,
                options.tokens,
                options.timeout,
                baseline,
                servers[-1],
            )
            level.server_alive = all(s.process.poll() is None for s in servers)
            if options.server == "gate":
                try:
                    c = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
                    c.request("GET", "/gate")
                    level.notes.append(json.loads(c.getresponse().read()))
                except OSError:
                    pass
            levels.append(level)
            print(json.dumps(asdict(level)), flush=True)
    finally:
        for s in servers:
            s.stop()
    lines = [
        f"| {label}: concurrent requests | answered / sent | errors | requests/s | tokens/s | p50 | p95 "
        "| max "
        "| peak GPU memory (over baseline) | peak host memory (anonymous) | /health worst | server alive |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for lv in levels:
        errors = ", ".join(f"{k}: {v}" for k, v in lv.errors.items()) or "none"
        health = f"{lv.health_max_s:.2f} s" + (f" ({lv.health_failures})" if lv.health_failures else "")
        lines.append(
            f"| {lv.concurrency} | {lv.ok} / {lv.requests} | {errors} | {lv.requests_per_s:.2f} "
            f"| {lv.tokens_per_s:.0f} | {lv.p50_s:.2f} s | {lv.p95_s:.2f} s | {lv.max_s:.2f} s "
            f"| {lv.peak_gpu_over_baseline_mib} MiB "
            f"| {lv.peak_host_rss_mib} MiB ({lv.peak_host_anon_mib} MiB) | {health} "
            f"| {'yes' if lv.server_alive else 'NO'} |"
        )
    lines.append(f"server restarts after a death: {restarts}")
    print("\n".join(lines), flush=True)
    if options.json:
        Path(options.json).write_text(
            json.dumps(
                {
                    "label": label,
                    "options": vars(options),
                    "baseline_mib": baseline,
                    "levels": [asdict(lv) for lv in levels],
                    "restarts": restarts,
                    "table": lines,
                },
                indent=2,
            )
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
