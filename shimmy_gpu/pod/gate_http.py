"""The request gate's HTTP plumbing: the relay to shimmy and back, its own answers, addresses and
request defaults.

Standard library only; it lies beside gate.py in the same ConfigMap.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import time

REASONS = {
    200: "OK",
    400: "Bad Request",
    411: "Length Required",
    413: "Content Too Large",
    502: "Bad Gateway",
    503: "Service Unavailable",
}


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


async def respond(writer, status: int, body: str, retry_after: int | None = None) -> None:
    extra = f"Retry-After: {retry_after}\r\n" if retry_after else ""
    writer.write(
        (
            f"HTTP/1.1 {status} {REASONS[status]}\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\n{extra}Connection: close\r\n\r\n{body}"
        ).encode()
    )
    with contextlib.suppress(ConnectionError):
        await writer.drain()


def host_port(text: str) -> tuple[str, int]:
    host, _, port = text.rpartition(":")
    return host or "0.0.0.0", int(port)


async def relay(upstream, request_line, headers, body, reader, writer, upgrade, meter, cancel) -> str:
    """Sends one request to shimmy and its answer back, through `meter`; returns the outcome.

    A client that goes away: with `cancel` (shimmy stops a generation whose connection closes) shimmy's
    connection is closed at once; otherwise the answer nobody reads is read to its end, since shimmy
    keeps decoding, and holding its memory, until then."""
    try:
        up_reader, up_writer = await asyncio.open_connection(*upstream)
    except OSError:
        # Nothing listens: shimmy is loading its model or being restarted. A client can retry, and
        # the pod's readiness takes it out of rotation if it stays down.
        await respond(writer, 503, '{"error": "shimmy is not answering: try again"}', retry_after=5)
        return "upstream_error"
    kept = [(k, v) for k, v in headers if upgrade or k.strip().lower() not in ("connection", "keep-alive")]
    lines = [request_line] + [f"{k}:{v}" for k, v in kept] + ([] if upgrade else ["Connection: close"])
    up_writer.write(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body)
    await up_writer.drain()
    client_gone = False

    async def down() -> None:  # shimmy -> client; to the end unless shimmy stops for a client that left
        nonlocal client_gone
        try:
            while chunk := await up_reader.read(65536):
                if meter.first_byte is None:
                    meter.first_byte = time.monotonic()
                meter.feed(chunk)
                if client_gone:
                    continue
                try:
                    writer.write(chunk)
                    await writer.drain()
                except ConnectionError:
                    client_gone = True
                    if cancel:
                        return
        except ConnectionError:  # shimmy went away mid-answer (killed): what came is all there is
            pass

    async def up() -> None:  # client -> shimmy, for a websocket after the upgrade
        while chunk := await reader.read(65536):
            up_writer.write(chunk)
            await up_writer.drain()

    async def left() -> None:  # returns when the client closes its side before the answer ends
        with contextlib.suppress(ConnectionError):
            while await reader.read(65536):
                pass

    answer = asyncio.ensure_future(down())
    helper = None
    if upgrade:
        helper = asyncio.ensure_future(up())
    elif cancel:
        helper = asyncio.ensure_future(left())
    try:
        if upgrade or helper is None:
            await answer
        else:
            await asyncio.wait([answer, helper], return_when=asyncio.FIRST_COMPLETED)
            client_gone = client_gone or not answer.done()
    finally:
        for task in (answer, helper):
            if task:
                task.cancel()
        up_writer.close()
    if client_gone:
        return "client_gone"
    if meter.first_byte is None and not upgrade:
        # shimmy closed the connection without a byte of answer (killed mid-generation): the
        # client gets a reason and may retry instead of an empty reply.
        await respond(writer, 503, '{"error": "shimmy stopped before answering: try again"}', retry_after=5)
        return "upstream_error"
    return meter.outcome()
