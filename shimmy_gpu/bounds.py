"""What the shimmy container needs to run at all, from the model and the request gate, and the
request defaults the gate may set, each field typed as shimmy 1.9.0 reads it.

A quantity can be well-formed and still unable to run: a memory limit of one byte, a CPU limit of
zero, one CPU for a server whose every generation blocks a worker thread. These rules report such
values through the reader, with the figure they follow from, before any resource is declared.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from shimmy_gpu import sizing
from shimmy_gpu.config_reader import Reader
from shimmy_gpu.settings import BuildSettings, WorkloadSettings
from shimmy_gpu.values import quantity


def resources(
    r: Reader,
    build: BuildSettings,
    w: WorkloadSettings,
    generations: int,
    model_mib: int,
    context_mib: int,
    gpu_mib: int,
) -> None:
    """The shimmy container's CPU and memory, and the GPUs' memory, against what `generations` at
    once need (the gate's limit, also shimmy's own context count with the resident-model patch)."""
    for key, value in (("cpuRequest", w.cpu_request), ("cpuLimit", w.cpu_limit)):
        if quantity(value) == 0:
            r.fail(key, value, "a CPU quantity above 0: with none the container never runs, e.g. 2")
    resident = build.shimmy.patched("resident-model")
    # shimmy as published runs one tokio worker per CPU of its limit and each generation blocks one
    # for its whole decode: a worker must stay free, or /health stalls and the probes restart a
    # busy pod.
    if not resident and quantity(w.cpu_limit) > 0 and int(quantity(w.cpu_limit)) < generations + 1:
        r.fail(
            "cpuLimit",
            w.cpu_limit,
            f"shimmy without the resident-model patch runs one worker thread per whole CPU of its limit "
            f"and each of the {generations} generation(s) at once blocks one; /health needs one more: at "
            f"least {generations + 1} (or lower maxConcurrentRequests)",
        )
    model = f"the model (modelMemoryMiB {model_mib}) once" if resident else "a copy of the model"
    if not resident:
        model += f" (modelMemoryMiB {model_mib})"
    held = f"{model} and a context (contextMemoryMiB {context_mib}) per generation"
    reserve = sizing.DEVICE_RESERVE_MIB

    def need(count: int) -> int:
        return math.ceil(sizing.memory_mib(count, model_mib, context_mib, resident=resident))

    if build.accelerator == "cuda" and need(generations) > gpu_mib:
        r.fail(
            "maxConcurrentRequests" if generations > 1 else "modelMemoryMiB",
            generations if generations > 1 else model_mib,
            f"{generations} generation(s) need {need(generations)} MiB of GPU memory ({held}, {reserve} MiB "
            f"reserve) and the pod's GPUs hold {gpu_mib} (gpuMemoryMiB x gpuCount): lower "
            "maxConcurrentRequests, or give the pod a larger GPU",
        )
    if build.accelerator == "cpu":  # without a GPU the weights and every context are in RAM
        floor, why = need, f"the cpu accelerator holds {held} in RAM, with {reserve} MiB besides"
    else:  # the weights and contexts are on the GPU; the host keeps the runtime and small buffers
        floor = sizing.cuda_host_mib
        why = (
            f"the cuda accelerator keeps the model on the GPU and holds shimmy's binary and CUDA runtime "
            f"({sizing.CUDA_HOST_MIB} MiB) and {sizing.CUDA_HOST_CONTEXT_MIB} MiB per generation in RAM, "
            "as measured (docs/gpu-results.md)"
        )
    for key, value, count in (
        ("memoryLimit", w.memory_limit, generations),
        ("memoryRequest", w.memory_request, 1),
    ):
        if quantity(value) < Decimal(floor(count)) * 2**20:
            r.fail(key, value, f"{why}: {count} generation(s) need at least {floor(count)}Mi")


# --- request defaults ----------------------------------------------------------------------------


def _whole(low: int, high: int, why: str = "") -> Callable[[Any], str | None]:
    def problem(value: Any) -> str | None:
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            return f"expected a whole number from {low} to {high}{why}"
        return None

    return problem


def _number(
    low: float, high: float, *, above_low: bool = False, why: str = ""
) -> Callable[[Any], str | None]:
    span = f"above {low:g} and at most {high:g}" if above_low else f"from {low:g} to {high:g}"

    def problem(value: Any) -> str | None:
        number = isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)
        if not number or not (low < value if above_low else low <= value) or value > high:
            return f"expected a number {span}{why}"
        return None

    return problem


# Each field shimmy's /api/generate (and the OpenAI and Anthropic routes) reads, with what it admits.
REQUEST_DEFAULTS: dict[str, Callable[[Any], str | None]] = {
    "max_tokens": _whole(
        1, sizing.N_CTX, f": shimmy's context holds the prompt and the answer in {sizing.N_CTX} tokens"
    ),
    "temperature": _number(0, 1e6, why=" (0: greedy)"),
    "top_k": _whole(0, 1_000_000, " (0: off)"),
    "top_p": _number(0, 1, above_low=True, why=" (1: off)"),
}
