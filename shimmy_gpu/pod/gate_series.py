"""The series the request gate exposes: metric names, the label values it uses, its histogram
buckets, and how the exposition writes numbers.

The gate imports this file beside it in the pod; the program imports it too, since its alerts, its
dashboard and the PodMonitor must name exactly what the gate writes. Standard library only.
"""

from __future__ import annotations

import math

PATH = "/metrics"
PREFIX = "shimmy_gate_"
# Requests that take a slot; `route` is one of ROUTES, anything else "other".
GENERATION_ROUTES = ("/api/generate", "/v1/chat/completions", "/v1/messages", "/ws/generate")
ROUTES = (*GENERATION_ROUTES, "/health", "/v1/models", "/api/models", "other")
OUTCOMES = (
    "answered",  # shimmy answered below 400 and the client read it to the end
    "client_error",  # shimmy answered 4xx (an unknown model, a body it cannot read)
    "upstream_error",  # shimmy answered 5xx (out of memory, a full context) or could not be reached
    "client_gone",  # the client left before the end of the answer
    "bad_request",  # 400 from the gate: a malformed Content-Length
    "length_required",  # 411 from the gate: a chunked request body
    "too_large",  # 413 from the gate: a body over its limit
    "queue_full",  # 503 at once: every slot taken and the queue full
    "queue_timeout",  # 503 after waiting the queue timeout for a slot
    "stopping",  # 503 during the drain after SIGTERM
)
REJECTED = ("queue_full", "queue_timeout", "stopping")  # the gate's 503s
# Seconds. A generation takes from a fraction of a second (a few tokens on a GPU) to minutes (long
# answers on a T4, or behind a queue), so the buckets are spaced about 2x up to the queue timeout's
# default and beyond; a latency objective must be one of them (shimmy_gpu/monitoring.py).
LATENCY_BUCKETS = (0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 20.0, 30.0, 60.0, 120.0, 300.0, 600.0)
QUEUE_WAIT_BUCKETS = (0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0)
TOKENS_PER_SECOND_BUCKETS = (1.0, 2.0, 5.0, 10.0, 20.0, 50.0, 100.0, 200.0, 500.0, 1000.0)

REQUESTS = PREFIX + "requests_total"
IN_FLIGHT = PREFIX + "requests_in_flight"
QUEUED = PREFIX + "requests_queued"
QUEUE_WAIT = PREFIX + "queue_wait_seconds"
FIRST_BYTE = PREFIX + "time_to_first_byte_seconds"
DURATION = PREFIX + "request_duration_seconds"
TOKENS = PREFIX + "generated_tokens_total"
TOKENS_PER_SECOND = PREFIX + "generation_tokens_per_second"
SLOTS = PREFIX + "slots"
QUEUE_CAPACITY = PREFIX + "queue_capacity"
QUEUE_TIMEOUT = PREFIX + "queue_timeout_seconds"
STOPPING = PREFIX + "stopping"


def le_text(bound: float) -> str:
    """A bucket bound as the exposition writes its `le` label, which PromQL must match exactly."""
    return "+Inf" if bound == math.inf else repr(float(bound))


def number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else repr(float(value))
