"""A concurrency gate in front of shimmy 1.9.0: at most N generation requests reach it at once.

Why: shimmy 1.9.0 loads the model again for every request (src/api.rs `generate` calls
`engine.load(&spec)`, which builds a new llama.cpp model and context each time; no cache, no limit,
no flag for one). Concurrent requests therefore hold concurrent copies of the weights, the KV cache
and the compute buffers on the GPU; past what the GPU holds, loads fail (HTTP 502) or the process
dies. Each request also blocks one tokio worker thread for its whole decode, so with as many
requests as worker threads (one per CPU core the process sees) even GET /health stops answering.

What: an HTTP/1.1 reverse proxy, standard library only (it can ship verbatim in a ConfigMap and run
in a sidecar with any python3, like shimmy_gpu/gpu_check.py; hence one file, a little over 300
lines). Requests that make shimmy generate (every POST, and GET /ws/generate) wait for one of
`--limit` slots; at most `--queue` wait, each at most `--queue-timeout` seconds; the rest get 503
with Retry-After at once. Everything else (GET /health, /v1/models, ...) passes without a slot, so
probes see shimmy itself. A slot is held until shimmy has finished its answer, even if the client
went away first (shimmy keeps decoding and holding its memory until then). One request per client
connection (`Connection: close`). GET /gate answers the gate's own counters as JSON.

Request defaults (`--request-default top_p=1.0`, repeatable): set in the JSON body of POST
/api/generate, /v1/chat/completions and /v1/messages when the client did not send the key. shimmy
1.9.0's sampler chain is temp -> top_p -> top_k -> penalties -> greedy (src/engine/llama.rs): its
default top_p 0.9 runs a softmax and a sort over the whole vocabulary for every token (on an H200:
2.65 of 5.05 ms per token for Gemma 3's 262k tokens, about 0.3 ms at a 32k vocabulary); top_p 1.0
skips it (llama.cpp returns early), and since the chain ends in greedy, the chosen token changes only
where shimmy's repetition penalty would pick another of the top 40 (docs/gpu-results.md).

The limit: `limit_for(gpu_memory_mib, request_mib)` below: what the GPU holds, less a reserve for
the CUDA context, over what one request needs (`request_mib`: weights + KV cache + compute buffers,
as llama.cpp logs them at load, or `request_memory_mib` from the model's shape).

Usage: python3 gate.py --listen 0.0.0.0:8080 --upstream 127.0.0.1:11435 --limit 3 [--queue 64]
                       [--queue-timeout 300] [--request-default top_p=1.0 ...]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import math
import re
import signal
import sys
import time

# --- the limit ---------------------------------------------------------------------------------

CUDA_CONTEXT_MIB = 512  # CUDA context + cuBLAS workspace of the one shimmy process, measured ~0.5 GiB


def kv_cache_mib(
    n_layer: int, n_embd_k_gqa: int, n_embd_v_gqa: int, n_ctx: int = 4096, bytes_per_value: int = 2
) -> float:
    """llama.cpp's f16 KV cache for one sequence (shimmy 1.9.0: n_ctx 4096 per request)."""
    return n_layer * (n_embd_k_gqa + n_embd_v_gqa) * n_ctx * bytes_per_value / 2**20


def request_memory_mib(model_file_mib: float, kv_mib: float, compute_mib: float) -> float:
    """GPU memory one shimmy request holds: the weights (about the GGUF's size), the KV cache and
    the compute buffers (llama.cpp's `CUDA0 compute buffer size`, 0.3 to 0.6 GiB at n_ubatch 512,
    larger for large vocabularies)."""
    return model_file_mib + kv_mib + compute_mib


def limit_for(gpu_memory_mib: float, request_mib: float, reserve_mib: float = CUDA_CONTEXT_MIB) -> int:
    """Concurrent requests that fit: floor((GPU memory - reserve) / per-request memory), at least 1."""
    if request_mib <= 0:
        raise ValueError("request_mib must be positive")
    return max(1, math.floor((gpu_memory_mib - reserve_mib) / request_mib))


# --- the proxy -------------------------------------------------------------------------------

MAX_HEAD = 64 * 1024
MAX_BODY = 1024 * 1024  # a prompt, not an upload
GENERATION_PATHS = ("/api/generate", "/v1/chat/completions", "/v1/messages")


def with_defaults(body: bytes, defaults: dict) -> bytes:
    """The JSON object `body` with each default added where its key is absent; anything that is not
    a JSON object passes unchanged (shimmy answers it as it would)."""
    if not defaults:
        return body
    try:
        request = json.loads(body)
    except ValueError:
        return body
    if not isinstance(request, dict):
        return body
    missing = {k: v for k, v in defaults.items() if k not in request}
    return json.dumps({**request, **missing}).encode() if missing else body


def parse_default(text: str) -> tuple[str, object]:
    key, sep, value = text.partition("=")
    if not sep or not key:
        raise argparse.ArgumentTypeError(f"expected KEY=JSON_VALUE, not {text!r}")
    try:
        return key, json.loads(value)
    except ValueError:
        return key, value


class Gate:
    def __init__(
        self,
        upstream: tuple[str, int],
        limit: int,
        queue: int,
        queue_timeout: float,
        defaults: dict | None = None,
    ):
        self.upstream, self.defaults = upstream, defaults or {}
        self.limit, self.queue, self.queue_timeout = limit, queue, queue_timeout
        self.slots = asyncio.Semaphore(limit)
        self.in_flight = self.waiting = 0
        self.stats = {
            "served": 0,
            "rejected_queue_full": 0,
            "rejected_timeout": 0,
            "upstream_errors": 0,
            "max_in_flight": 0,
            "max_waiting": 0,
        }

    def status(self) -> dict:
        return {
            "limit": self.limit,
            "queue": self.queue,
            "queue_timeout_s": self.queue_timeout,
            "request_defaults": self.defaults,
            "in_flight": self.in_flight,
            "waiting": self.waiting,
            **self.stats,
        }

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head = await reader.readuntil(b"\r\n\r\n")
        except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, ConnectionError):
            writer.close()
            return
        try:
            await self.route(head, reader, writer)
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            writer.close()

    async def route(self, head: bytes, reader, writer) -> None:
        request_line, *header_lines = head.decode("latin-1").split("\r\n")
        method, target, _version = [*request_line.split(" ", 2), "", ""][:3]
        headers = [tuple(x.split(":", 1)) for x in header_lines if ":" in x]
        names = {k.strip().lower(): v.strip() for k, v in headers}
        if method == "GET" and target.split("?")[0] == "/gate":
            return await respond(writer, 200, json.dumps(self.status()))
        if "chunked" in names.get("transfer-encoding", "").lower():
            return await respond(writer, 411, '{"error": "send Content-Length"}')
        length = names.get("content-length", "0") or "0"
        if not re.fullmatch(r"[0-9]{1,9}", length):
            return await respond(writer, 400, '{"error": "malformed Content-Length"}')
        if int(length) > MAX_BODY:
            return await respond(writer, 413, f'{{"error": "a request body is at most {MAX_BODY} bytes"}}')
        body = await reader.readexactly(int(length))
        upgrade = names.get("upgrade", "").lower() == "websocket"
        generates = method == "POST" or target.startswith("/ws/")
        if method == "POST" and target.split("?")[0] in GENERATION_PATHS:
            changed = with_defaults(body, self.defaults)
            if changed is not body:
                body = changed
                headers = [(k, v) for k, v in headers if k.strip().lower() != "content-length"]
                headers.append(("Content-Length", f" {len(body)}"))
        if not generates:
            return await self.forward(request_line, headers, body, reader, writer, upgrade)
        if self.waiting >= self.queue and self.in_flight >= self.limit:
            self.stats["rejected_queue_full"] += 1
            return await respond(writer, 503, '{"error": "shimmy is busy: queue full"}', retry_after=5)
        self.waiting += 1
        if self.slots.locked():  # nothing free: this one waits
            self.stats["max_waiting"] = max(self.stats["max_waiting"], self.waiting)
        try:
            await asyncio.wait_for(self.slots.acquire(), self.queue_timeout)
        except TimeoutError:
            self.stats["rejected_timeout"] += 1
            return await respond(writer, 503, '{"error": "shimmy is busy: waited too long"}', retry_after=5)
        finally:
            self.waiting -= 1
        self.in_flight += 1
        self.stats["max_in_flight"] = max(self.stats["max_in_flight"], self.in_flight)
        try:
            await self.forward(request_line, headers, body, reader, writer, upgrade)
            self.stats["served"] += 1
        finally:
            self.in_flight -= 1
            self.slots.release()

    async def forward(self, request_line, headers, body, reader, writer, upgrade: bool) -> None:
        try:
            up_reader, up_writer = await asyncio.open_connection(*self.upstream)
        except OSError:
            self.stats["upstream_errors"] += 1
            return await respond(writer, 502, '{"error": "shimmy is not answering"}')
        kept = [
            (k, v) for k, v in headers if upgrade or k.strip().lower() not in ("connection", "keep-alive")
        ]
        lines = [request_line] + [f"{k}:{v}" for k, v in kept] + ([] if upgrade else ["Connection: close"])
        up_writer.write(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body)
        await up_writer.drain()
        client_gone = False

        async def down() -> None:  # shimmy -> client; read to the end even if the client left
            nonlocal client_gone
            while chunk := await up_reader.read(65536):
                if client_gone:
                    continue
                try:
                    writer.write(chunk)
                    await writer.drain()
                except ConnectionError:
                    client_gone = True

        async def up() -> None:  # client -> shimmy, for a websocket after the upgrade
            while chunk := await reader.read(65536):
                up_writer.write(chunk)
                await up_writer.drain()

        tasks = [asyncio.ensure_future(down())]
        if upgrade:
            tasks.append(asyncio.ensure_future(up()))
        try:
            await tasks[0]
        finally:
            for task in tasks[1:]:
                task.cancel()
            up_writer.close()


async def respond(writer, status: int, body: str, retry_after: int | None = None) -> None:
    reason = {
        200: "OK",
        400: "Bad Request",
        411: "Length Required",
        413: "Content Too Large",
        502: "Bad Gateway",
        503: "Service Unavailable",
    }[status]
    extra = f"Retry-After: {retry_after}\r\n" if retry_after else ""
    writer.write(
        (
            f"HTTP/1.1 {status} {reason}\r\nContent-Type: application/json\r\nContent-Length: {len(body)}\r\n"
            f"{extra}Connection: close\r\n\r\n{body}"
        ).encode()
    )
    with contextlib.suppress(ConnectionError):
        await writer.drain()


def host_port(text: str) -> tuple[str, int]:
    host, _, port = text.rpartition(":")
    return host or "0.0.0.0", int(port)


async def serve(options) -> None:
    gate = Gate(
        host_port(options.upstream),
        options.limit,
        options.queue,
        options.queue_timeout,
        dict(options.request_default),
    )
    server = await asyncio.start_server(gate.handle, *host_port(options.listen), limit=MAX_HEAD, backlog=1024)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    print(
        f"gate: {options.listen} -> {options.upstream}, limit {options.limit}, queue {options.queue}, "
        f"queue timeout {options.queue_timeout:g}s, request defaults {dict(options.request_default)}",
        flush=True,
    )
    started = time.monotonic()
    async with server:
        await stop.wait()
    print(f"gate: stopped after {time.monotonic() - started:.0f}s: {json.dumps(gate.status())}", flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--listen", default="0.0.0.0:8080")
    parser.add_argument("--upstream", default="127.0.0.1:11435")
    parser.add_argument("--limit", type=int, required=True, help="generation requests at once")
    parser.add_argument("--queue", type=int, default=64, help="requests that may wait for a slot")
    parser.add_argument("--queue-timeout", type=float, default=300, help="seconds one may wait")
    parser.add_argument(
        "--request-default",
        type=parse_default,
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="set in generation requests that lack KEY (VALUE as JSON)",
    )
    options = parser.parse_args(argv)
    if options.limit < 1:
        parser.error("--limit must be at least 1")
    asyncio.run(serve(options))
    return 0


if __name__ == "__main__":
    sys.exit(main())
