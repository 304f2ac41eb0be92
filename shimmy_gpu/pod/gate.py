"""A concurrency gate in front of shimmy: at most N generation requests reach it at once.

Why: every generation holds device memory (a context with the resident-model patch, a whole copy
of the model without it) and, as shimmy 1.9.0 ships, one of its tokio workers; past what the device
holds, shimmy fails requests (HTTP 502). The gate turns that into waiting, and into a clear 503.

What: an HTTP/1.1 reverse proxy, standard library only, so it runs in a sidecar with any python3;
gate_http.py, gate_metrics.py and gate_series.py lie beside it in the same ConfigMap and are
imported from the folder it runs in. Requests that make shimmy generate (every POST, and GET
/ws/generate) wait for one of `--limit` slots; at most `--queue` wait, each at most
`--queue-timeout` seconds; the rest get 503 with Retry-After at once. Everything else (GET /health,
/v1/models, ...) passes without a slot, so probes see shimmy itself. One request per client
connection (`Connection: close`). GET /gate answers the gate's own counters as JSON; with
`--metrics-listen`, GET /metrics on that address answers Prometheus metrics (gate_metrics.py).

A client that goes away: with `--cancel-on-disconnect` (shimmy with the client-disconnect patch
stops a generation whose connection closes) the gate closes shimmy's connection and frees the slot
at once; otherwise it keeps the slot until shimmy has finished the answer nobody reads, since shimmy
keeps decoding and holding its memory until then. A client that half-closes its connection after
the request counts as gone (HTTP/1.1 clients do not).

SIGTERM or SIGINT: generation requests waiting for a slot, and new ones, get 503 with Retry-After,
and GET /gate answers 503, so the readiness probe takes the pod out of the Service. Requests in
flight get up to `--drain-timeout` seconds to finish (the pod's grace period is longer). The
listener stays open meanwhile and for at least `--endpoint-grace` seconds: a Service routes to a
terminating pod until its endpoint is no longer serving and every node's proxy has dropped it, and a
connection sent to the pod's address after its network is gone is never answered (the client hangs),
where a 503 tells it to come back. Then the listener closes, the connections it accepted get their
answers, and the gate exits 0.

Request defaults (`--request-default KEY=VALUE`, repeatable): set in the JSON body of POST
/api/generate, /v1/chat/completions and /v1/messages when the client did not send the key.

Usage: python3 gate.py --listen 0.0.0.0:8080 --upstream 127.0.0.1:11435 --limit 3 [--queue 64]
                       [--queue-timeout 300] [--drain-timeout 30] [--endpoint-grace 0]
                       [--cancel-on-disconnect]
                       [--request-default top_p=1.0 ...] [--metrics-listen 0.0.0.0:9464]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import re
import signal
import sys
import time

import gate_http
import gate_metrics
import gate_series

respond = gate_http.respond
MAX_HEAD = 64 * 1024
MAX_BODY = 1024 * 1024  # a prompt, not an upload
GENERATION_PATHS = ("/api/generate", "/v1/chat/completions", "/v1/messages")
LAST_ANSWERS_S = 2  # after the listener closes: the 503s and GETs already accepted are written


class Gate:
    def __init__(
        self,
        upstream: tuple[str, int],
        limit: int,
        queue: int,
        queue_timeout: float,
        defaults: dict | None = None,
        cancel_on_disconnect: bool = False,
    ):
        self.upstream, self.defaults = upstream, defaults or {}
        self.limit, self.queue, self.queue_timeout = limit, queue, queue_timeout
        self.cancel_on_disconnect = cancel_on_disconnect
        self.slots = asyncio.Semaphore(limit)
        self.stopping = asyncio.Event()
        self.in_flight = self.waiting = 0
        self.connections = 0  # open client connections, whatever they wait for
        self.metrics = gate_metrics.GateMetrics(limit, queue, queue_timeout)
        self.stats = {
            "served": 0,
            "rejected_queue_full": 0,
            "rejected_timeout": 0,
            "rejected_stopping": 0,
            "client_gone": 0,
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
            "cancel_on_disconnect": self.cancel_on_disconnect,
            "stopping": self.stopping.is_set(),
            "in_flight": self.in_flight,
            "waiting": self.waiting,
            **self.stats,
        }

    def render_metrics(self) -> str:
        return self.metrics.render(self.in_flight, self.waiting, self.stopping.is_set())

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        try:
            await self.answer(reader, writer)
        finally:
            self.connections -= 1

    async def answer(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head = await reader.readuntil(b"\r\n\r\n")
        except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, ConnectionError):
            writer.close()
            return
        arrived = time.monotonic()
        target = head.split(b" ", 2)[1].decode("latin-1") if head.count(b" ") >= 2 else ""
        route = gate_metrics.route_of(target)
        outcome = "client_gone"
        try:
            outcome = await self.route(head, reader, writer, route, arrived)
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            writer.close()
            if outcome:  # None: the gate's own status page
                self.metrics.requests.inc(route, outcome)

    async def route(self, head: bytes, reader, writer, route: str, arrived: float) -> str | None:
        """Answers one request; returns its outcome (gate_series.OUTCOMES)."""
        request_line, *header_lines = head.decode("latin-1").split("\r\n")
        method, target, _version = [*request_line.split(" ", 2), "", ""][:3]
        headers = [tuple(x.split(":", 1)) for x in header_lines if ":" in x]
        names = {k.strip().lower(): v.strip() for k, v in headers}
        if method == "GET" and target.split("?")[0] == "/gate":
            await respond(writer, 503 if self.stopping.is_set() else 200, json.dumps(self.status()))
            return None
        if "chunked" in names.get("transfer-encoding", "").lower():
            await respond(writer, 411, '{"error": "send Content-Length"}')
            return "length_required"
        length = names.get("content-length", "0") or "0"
        if not re.fullmatch(r"[0-9]{1,9}", length):
            await respond(writer, 400, '{"error": "malformed Content-Length"}')
            return "bad_request"
        if int(length) > MAX_BODY:
            await respond(writer, 413, f'{{"error": "a request body is at most {MAX_BODY} bytes"}}')
            return "too_large"
        body = await reader.readexactly(int(length))
        upgrade = names.get("upgrade", "").lower() == "websocket"
        generates = method == "POST" or target.startswith("/ws/")
        if method == "POST" and target.split("?")[0] in GENERATION_PATHS:
            changed = gate_http.with_defaults(body, self.defaults)
            if changed is not body:
                body = changed
                headers = [(k, v) for k, v in headers if k.strip().lower() != "content-length"]
                headers.append(("Content-Length", f" {len(body)}"))
        meter = gate_metrics.AnswerMeter(route)
        if not generates:
            return await self.forward(request_line, headers, body, reader, writer, upgrade, meter)
        if self.stopping.is_set():
            return await self.reject_stopping(writer)
        # One sum: a request that got its slot but has not resumed yet still counts as waiting.
        if self.waiting + self.in_flight >= self.limit + self.queue:
            self.stats["rejected_queue_full"] += 1
            await respond(writer, 503, '{"error": "shimmy is busy: queue full"}', retry_after=5)
            return "queue_full"
        self.waiting += 1
        if self.slots.locked():  # nothing free: this one waits
            self.stats["max_waiting"] = max(self.stats["max_waiting"], self.waiting)
        try:
            slot = await self.wait_for_slot()
        finally:
            self.waiting -= 1
            self.metrics.queue_wait.observe(time.monotonic() - arrived)
        if slot == "timeout":
            self.stats["rejected_timeout"] += 1
            await respond(writer, 503, '{"error": "shimmy is busy: waited too long"}', retry_after=5)
            return "queue_timeout"
        if slot == "stopping":
            return await self.reject_stopping(writer)
        self.in_flight += 1
        self.stats["max_in_flight"] = max(self.stats["max_in_flight"], self.in_flight)
        started = time.monotonic()
        try:
            outcome = await self.forward(request_line, headers, body, reader, writer, upgrade, meter)
            self.stats["served"] += 1
        finally:
            self.in_flight -= 1
            self.slots.release()
        self.observe(route, outcome, meter, arrived, started)
        return outcome

    def observe(self, route, outcome, meter, arrived: float, started: float) -> None:
        """Latency, time to first byte and tokens of one generation that reached shimmy."""
        if route not in gate_series.GENERATION_ROUTES:
            return
        ended = time.monotonic()
        if meter.first_byte is not None:
            self.metrics.first_byte.observe(meter.first_byte - arrived, route)
        if outcome != "answered":
            return
        self.metrics.duration.observe(ended - arrived, route)
        tokens = meter.finish()
        if tokens:
            self.metrics.tokens.inc(route, by=tokens)
            self.metrics.tokens_per_second.observe(tokens / max(ended - started, 1e-6), route)

    async def wait_for_slot(self) -> str:
        """ "slot" once one is held, "timeout" after queue_timeout, "stopping" at SIGTERM."""
        acquire = asyncio.ensure_future(self.slots.acquire())
        stop = asyncio.ensure_future(self.stopping.wait())
        try:
            await asyncio.wait(
                {acquire, stop}, timeout=self.queue_timeout, return_when=asyncio.FIRST_COMPLETED
            )
        finally:
            stop.cancel()
            if not acquire.done():
                acquire.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await acquire
        if acquire.cancelled():
            return "stopping" if self.stopping.is_set() else "timeout"
        return "slot"

    async def reject_stopping(self, writer) -> str:
        self.stats["rejected_stopping"] += 1
        await respond(writer, 503, '{"error": "shimmy is restarting: try again"}', retry_after=5)
        return "stopping"

    async def forward(self, request_line, headers, body, reader, writer, upgrade: bool, meter) -> str:
        cancel = self.cancel_on_disconnect
        outcome = await gate_http.relay(
            self.upstream, request_line, headers, body, reader, writer, upgrade, meter, cancel
        )
        if outcome == "client_gone":
            self.stats["client_gone"] += 1
        elif outcome == "upstream_error" and not meter.status:  # no answer at all
            self.stats["upstream_errors"] += 1
        return outcome


async def serve(options) -> None:
    gate = Gate(
        gate_http.host_port(options.upstream),
        options.limit,
        options.queue,
        options.queue_timeout,
        dict(options.request_default),
        options.cancel_on_disconnect,
    )
    listen = gate_http.host_port(options.listen)
    server = await asyncio.start_server(gate.handle, *listen, limit=MAX_HEAD, backlog=1024)
    metrics = None
    if options.metrics_listen:  # its own port: the Service never sends clients there

        async def scrape(reader, writer) -> None:
            await gate_metrics.serve_metrics(reader, writer, gate.render_metrics)

        metrics = await asyncio.start_server(scrape, *gate_http.host_port(options.metrics_listen))
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    print(
        f"gate: {options.listen} -> {options.upstream}, limit {options.limit}, queue {options.queue}, "
        f"queue timeout {options.queue_timeout:g}s, drain timeout {options.drain_timeout:g}s, cancel on "
        f"disconnect {options.cancel_on_disconnect}, request defaults {dict(options.request_default)}, "
        f"metrics {options.metrics_listen or 'off'}",
        flush=True,
    )
    started = time.monotonic()
    await stop.wait()
    gate.stopping.set()
    stopped = time.monotonic()
    deadline = stopped + options.drain_timeout
    while (
        gate.in_flight and time.monotonic() < deadline
    ) or time.monotonic() < stopped + options.endpoint_grace:
        await asyncio.sleep(0.05)
    server.close()
    answered = time.monotonic() + LAST_ANSWERS_S
    while gate.connections > gate.in_flight and time.monotonic() < answered:
        await asyncio.sleep(0.05)
    if metrics:
        metrics.close()
    left = f", {gate.in_flight} cut off at the drain timeout" if gate.in_flight else ""
    print(
        f"gate: stopped after {time.monotonic() - started:.0f}s{left}: {json.dumps(gate.status())}",
        flush=True,
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--listen", default="0.0.0.0:8080")
    parser.add_argument("--upstream", default="127.0.0.1:11435")
    parser.add_argument("--metrics-listen", default="", help="where GET /metrics answers (empty: nowhere)")
    parser.add_argument("--limit", type=int, required=True, help="generation requests at once")
    parser.add_argument("--queue", type=int, default=64, help="requests that may wait for a slot")
    parser.add_argument("--queue-timeout", type=float, default=300, help="seconds one may wait")
    parser.add_argument(
        "--drain-timeout", type=float, default=30, help="seconds requests in flight may take after SIGTERM"
    )
    parser.add_argument(
        "--endpoint-grace",
        type=float,
        default=0,
        help="seconds the listener stays open after SIGTERM (503s) while the pod leaves the Service",
    )
    parser.add_argument(
        "--cancel-on-disconnect",
        action="store_true",
        help="close shimmy's connection when the client leaves (shimmy then stops generating)",
    )
    parser.add_argument(
        "--request-default",
        type=gate_http.parse_default,
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
