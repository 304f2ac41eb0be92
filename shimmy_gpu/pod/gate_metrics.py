"""The request gate's Prometheus metrics: what it counts, the text exposition, and the meter that
reads shimmy's answers for their status and tokens.

Standard library only, like the rest of the gate: it runs in the plain `pythonImage` with a
read-only root file system and no pip, so no client library can be installed there. The output is
Prometheus' text format 0.0.4 (tests/monitoring scrape it with a real Prometheus). The names and
buckets are gate_series.py's, which the program reads too.

Label values are only gate_series' constants (routes, outcomes), never a client's path or model,
and every series exists from the start at 0, so `increase()` counts from the gate's first request.
"""

from __future__ import annotations

import asyncio
import json
import math
import re

import gate_series as gs

MAX_METERED = 1024 * 1024  # a whole answer read for its token count; a longer one is not counted


def escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


class Metric:
    """One family with fixed label names; `known` label values are declared at 0 from the start."""

    def __init__(self, name, kind, help_text, labels=(), known=((),), buckets=()):
        self.name, self.kind, self.help, self.labels = name, kind, help_text, labels
        self.bounds = (*buckets, math.inf) if kind == "histogram" else ()
        self.series: dict[tuple[str, ...], list[float]] = {}
        for values in known:
            self._get(values)

    def _get(self, values: tuple[str, ...]) -> list[float]:
        # a histogram: cumulative bucket counts, then sum and count; otherwise the one value
        return self.series.setdefault(values, [0.0] * (len(self.bounds) + 2 if self.bounds else 1))

    def inc(self, *values: str, by: float = 1.0) -> None:
        self._get(values)[0] += by

    def set(self, value: float, *values: str) -> None:
        self._get(values)[0] = value

    def observe(self, value: float, *values: str) -> None:
        series = self._get(values)
        for i, bound in enumerate(self.bounds):
            if value <= bound:
                series[i] += 1
        series[-2] += value
        series[-1] += 1

    def render(self) -> list[str]:
        lines = [f"# HELP {self.name} {self.help}", f"# TYPE {self.name} {self.kind}"]
        for values, series in sorted(self.series.items()):
            pairs = [f'{k}="{escape(v)}"' for k, v in zip(self.labels, values, strict=True)]
            if not self.bounds:
                lines.append(f"{self.name}{{{','.join(pairs)}}} {gs.number(series[0])}")
                continue
            for bound, count in zip(self.bounds, series, strict=False):
                labels = ",".join([*pairs, f'le="{gs.le_text(bound)}"'])
                lines.append(f"{self.name}_bucket{{{labels}}} {gs.number(count)}")
            lines.append(f"{self.name}_sum{{{','.join(pairs)}}} {gs.number(series[-2])}")
            lines.append(f"{self.name}_count{{{','.join(pairs)}}} {gs.number(series[-1])}")
        return lines


class GateMetrics:
    """Everything the gate exposes. Where llama.cpp's `llama-server --metrics` has the same quantity
    the help text names it (docs/operating.md has the whole table)."""

    def __init__(self, limit: int, queue: int, queue_timeout: float):
        every = [(route, outcome) for route in gs.ROUTES for outcome in gs.OUTCOMES]
        generations = [(route,) for route in gs.GENERATION_ROUTES]
        self.requests = Metric(
            gs.REQUESTS, "counter", "Requests by route and outcome.", ("route", "outcome"), every
        )
        self.in_flight = Metric(
            gs.IN_FLIGHT, "gauge", "Generations holding a slot (llama-server: llamacpp:requests_processing)."
        )
        self.queued = Metric(
            gs.QUEUED, "gauge", "Generations waiting for a slot (llama-server: llamacpp:requests_deferred)."
        )
        self.queue_wait = Metric(
            gs.QUEUE_WAIT,
            "histogram",
            "Seconds a generation waited for a slot, whether it got one or timed out.",
            buckets=gs.QUEUE_WAIT_BUCKETS,
        )
        self.first_byte = Metric(
            gs.FIRST_BYTE,
            "histogram",
            "Seconds from a generation's arrival to the first byte of shimmy's answer, queue included.",
            ("route",),
            generations,
            gs.LATENCY_BUCKETS,
        )
        self.duration = Metric(
            gs.DURATION,
            "histogram",
            "Seconds from a generation's arrival to the end of an answered one, queue included.",
            ("route",),
            generations,
            gs.LATENCY_BUCKETS,
        )
        self.tokens = Metric(
            gs.TOKENS,
            "counter",
            "Tokens shimmy's answers state (llama-server: llamacpp:tokens_predicted_total).",
            ("route",),
            generations,
        )
        self.tokens_per_second = Metric(
            gs.TOKENS_PER_SECOND,
            "histogram",
            "Tokens per second of one answer, from its slot to its end (llama-server: "
            "llamacpp:predicted_tokens_seconds, an average without prompt processing).",
            ("route",),
            generations,
            gs.TOKENS_PER_SECOND_BUCKETS,
        )
        self.stopping = Metric(gs.STOPPING, "gauge", "1 while the gate drains after SIGTERM.")
        limits = [
            Metric(gs.SLOTS, "gauge", "Generations the gate lets reach shimmy at once (its --limit)."),
            Metric(gs.QUEUE_CAPACITY, "gauge", "Generations that may wait for a slot (its --queue)."),
            Metric(gs.QUEUE_TIMEOUT, "gauge", "Seconds a generation may wait for a slot."),
        ]
        for metric, value in zip(limits, (limit, queue, queue_timeout), strict=True):
            metric.set(value)
        self.families = [
            self.requests, self.in_flight, self.queued, self.queue_wait, self.first_byte,
            self.duration, self.tokens, self.tokens_per_second, self.stopping, *limits,
        ]  # fmt: skip

    def render(self, in_flight: int, queued: int, stopping: bool) -> str:
        self.in_flight.set(in_flight)
        self.queued.set(queued)
        self.stopping.set(1 if stopping else 0)
        return "\n".join(line for family in self.families for line in family.render()) + "\n"


def route_of(target: str) -> str:
    path = target.split("?")[0]
    return path if path in gs.ROUTES else "other"


class AnswerMeter:
    """Reads shimmy's answer as the gate passes it on: its status, and the tokens it states.

    shimmy 1.9.0 states no token count in a whole answer (/api/generate sends the text only, the
    `usage` of /v1/chat/completions is 0, that of /v1/messages a guess of 4 characters a token), but
    streams one server-sent event per token (src/api.rs, src/openai_compat.rs). So a streamed answer
    counts its token events; a whole one counts `usage.completion_tokens` where shimmy states it.
    """

    def __init__(self, route: str):
        self.route, self.status, self.tokens = route, 0, 0
        self.head, self.raw, self.events, self.body = b"", b"", b"", b""
        self.streamed = self.chunked = self.broken = False
        self.first_byte: float | None = None  # time.monotonic() of the answer's first byte

    def feed(self, chunk: bytes) -> None:
        if self.broken:
            return
        if not self.status:
            self.head += chunk
            end = self.head.find(b"\r\n\r\n")
            if end < 0:
                self.broken = len(self.head) > MAX_METERED
                return
            lines = self.head[:end].decode("latin-1").split("\r\n")
            chunk, self.head = self.head[end + 4 :], b""
            status = re.fullmatch(r"HTTP/1\.[01] ([1-5][0-9][0-9])(?: .*)?", lines[0])
            self.status = int(status.group(1)) if status else 502
            pairs = (x.partition(":") for x in lines[1:])
            fields = {k.strip().lower(): v.strip().lower() for k, _, v in pairs}
            self.streamed = fields.get("content-type", "").startswith("text/event-stream")
            self.chunked = "chunked" in fields.get("transfer-encoding", "")
        self._content(self._unchunk(chunk) if self.chunked else chunk)

    def _unchunk(self, data: bytes) -> bytes:
        """The payload of every complete chunk of a `Transfer-Encoding: chunked` body so far."""
        self.raw += data
        out = b""
        while (line_end := self.raw.find(b"\r\n")) >= 0:
            size_text = self.raw[:line_end].split(b";")[0].strip()
            if not re.fullmatch(rb"[0-9a-fA-F]{1,8}", size_text):
                self.broken = True
                return b""
            size = int(size_text, 16)
            if len(self.raw) < line_end + 2 + size + 2:
                break
            out += self.raw[line_end + 2 : line_end + 2 + size]
            self.raw = self.raw[line_end + 2 + size + 2 :]
        self.broken = len(self.raw) > MAX_METERED
        return out

    def _content(self, data: bytes) -> None:
        if not self.streamed:
            self.body += data
            self.broken = len(self.body) > MAX_METERED
            return
        self.events += data.replace(b"\r\n", b"\n")
        *complete, self.events = self.events.split(b"\n\n")
        for event in complete:
            lines = event.decode("utf-8", "replace").split("\n")
            data_lines = [x[5:].removeprefix(" ") for x in lines if x.startswith("data:")]
            self.tokens += bool(data_lines) and self._is_token("\n".join(data_lines))

    def _is_token(self, data: str) -> bool:
        if data == "[DONE]":
            return False
        if self.route == "/api/generate":  # each event is the text of one token
            return True
        try:  # a chat completion chunk: a token where its delta carries content
            choices = json.loads(data).get("choices") or [{}]
            return bool(choices[0].get("delta", {}).get("content"))
        except (ValueError, AttributeError, IndexError, TypeError):
            return False

    def finish(self) -> int:
        """The tokens the whole answer stated."""
        if self.streamed or self.broken or not self.body:
            return self.tokens
        try:
            stated = json.loads(self.body).get("usage", {}).get("completion_tokens", 0)
        except (ValueError, AttributeError):
            return 0
        return stated if isinstance(stated, int) and stated > 0 else 0

    def outcome(self) -> str:
        if not self.status or self.status >= 500:
            return "upstream_error"
        return "client_error" if self.status >= 400 else "answered"


async def serve_metrics(reader, writer, render) -> None:
    """GET /metrics on the gate's metrics port (nothing else lives there)."""
    try:
        head = await reader.readuntil(b"\r\n\r\n")
        method, target = [*head.decode("latin-1").split(" ", 2), ""][:2]
        found = method == "GET" and target.split("?")[0] == gs.PATH
        body = (render() if found else "not found\n").encode()
        status = "200 OK" if found else "404 Not Found"
        writer.write(
            f"HTTP/1.1 {status}\r\nContent-Type: text/plain; version=0.0.4; charset=utf-8\r\n"
            f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n".encode()
            + body
        )
        await writer.drain()
    except (ConnectionError, EOFError, asyncio.LimitOverrunError):
        pass
    finally:
        writer.close()
