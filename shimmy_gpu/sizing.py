"""How many generations one shimmy pod runs at once, from the memory of the device it runs on.

llama.cpp logs three buffers when shimmy loads a model: the weights (`model buffer size`), and per
context the KV cache (`KV buffer size`) and the compute buffer (`compute buffer size`). With the
resident-model patch the weights are loaded once and each generation holds one context; shimmy as
published loads weights and a context for every request (docs/gpu-results.md measures both).
"""

from __future__ import annotations

import math

import shimmy_facts as facts

from shimmy_gpu.settings import BuildSettings, WorkloadSettings
from shimmy_gpu.values import quantity

# The CUDA context and cuBLAS workspace of the one shimmy process, measured at about 0.5 GiB.
DEVICE_RESERVE_MIB = 512
N_CTX = 4096  # shimmy 1.9.0's context per generation (its registry default)
# Host memory of the cuda shimmy with every layer on the GPU: its binary and the CUDA runtime's host
# side, then per context its host buffers. Measured resident (VmRSS) with phi-3-mini at 1 and 7
# contexts: 453 and 590 MiB (docs/gpu-results.md, "Host memory of the cuda shimmy").
CUDA_HOST_MIB = 432
CUDA_HOST_CONTEXT_MIB = 24


def concurrent_generations(
    memory_mib: float,
    model_mib: float,
    context_mib: float,
    *,
    resident: bool,
    reserve_mib: float = DEVICE_RESERVE_MIB,
) -> int:
    """Generations that fit, at least 1 and at most what the patched shimmy accepts.

    resident: the weights once, then one context per generation; otherwise every request holds a
    copy of the weights and a context of its own.
    """
    if model_mib <= 0 or context_mib <= 0:
        raise ValueError("model_mib and context_mib must be positive")
    if resident:
        fit = (memory_mib - reserve_mib - model_mib) / context_mib
    else:
        fit = (memory_mib - reserve_mib) / (model_mib + context_mib)
    return max(1, min(facts.MAX_PARALLEL, math.floor(fit)))


def memory_mib(
    generations: int,
    model_mib: float,
    context_mib: float,
    *,
    resident: bool,
    reserve_mib: float = DEVICE_RESERVE_MIB,
) -> float:
    """The memory `generations` at once need: the inverse of concurrent_generations."""
    if resident:
        return reserve_mib + model_mib + generations * context_mib
    return reserve_mib + generations * (model_mib + context_mib)


def cuda_host_mib(generations: int) -> int:
    """The host memory (RAM) the cuda shimmy holds with `generations` contexts."""
    return CUDA_HOST_MIB + generations * CUDA_HOST_CONTEXT_MIB


def derived_limit(
    build: BuildSettings, workload: WorkloadSettings, gpu_memory: int, model_memory: int, context_memory: int
) -> int:
    """Generations at once: what the device's memory holds (the GPUs for cuda, the memory limit for
    cpu). shimmy as published also blocks one tokio worker per generation, one per CPU of its limit:
    one is left free for /health."""
    memory = gpu_memory if build.accelerator == "cuda" else int(quantity(workload.memory_limit)) // 2**20
    resident = build.shimmy.patched("resident-model")
    limit = concurrent_generations(memory, model_memory, context_memory, resident=resident)
    if not resident:
        workers = max(1, int(quantity(workload.cpu_limit)))
        limit = max(1, min(limit, workers - 1))
    return limit
