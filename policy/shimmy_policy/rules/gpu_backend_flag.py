"""gpu-backend-flag: shimmy is told `--gpu-backend cuda`, exactly once (remediable)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from shimmy_facts import GPU_BACKENDS, UNREAD_ENV

from shimmy_policy.cmdline import without_flag
from shimmy_policy.container_fields import env_names
from shimmy_policy.props import items, reveal, set_keeping_secret
from shimmy_policy.rule_types import ALLOW_CPU, MANDATORY, Finding, Subject
from shimmy_policy.workloads import Container, Workload, container_rule

NAME = "gpu-backend-flag"
FLAG = "--gpu-backend"
UNREAD = sorted(env for env, flag in UNREAD_ENV.items() if flag == FLAG)  # SHIMMY_GPU_BACKEND


def _problem(value: str, allow_cpu: bool) -> str:
    if value == "":
        return "--gpu-backend has no value"
    if value == "auto":
        return (
            "--gpu-backend auto silently runs on the CPU when CUDA is not compiled in or nvidia-smi is gone"
        )
    if value == "cpu":
        relax = "" if allow_cpu else " (allowCpu relaxes this for GPU-less stacks)"
        return f"--gpu-backend cpu never uses the GPU{relax}"
    if value in GPU_BACKENDS:
        return f"--gpu-backend {value} is not compiled into the CUDA build; shimmy falls back to auto"
    return f"--gpu-backend {value!r} is not a backend shimmy knows; it falls back to auto"


def check(at: Subject, w: Workload, c: Container, config: Mapping[str, Any]) -> list[Finding]:
    allowed = {"cuda", "cpu"} if config["allowCpu"] else {"cuda"}
    values = c.run.values(FLAG)
    if c.run.unknown and not values:
        return [at.pending("the command line")]
    if not values:
        unread = sorted(set(UNREAD) & env_names(c.spec))
        ignored = f" (shimmy 1.x does not read {' or '.join(unread)})" if unread else ""
        return [
            at.violation(
                "no --gpu-backend flag: shimmy picks auto, which silently runs on the CPU when CUDA is not "
                f"compiled in or nvidia-smi is missing{ignored}",
                "add `--gpu-backend cuda` to the container args",
            )
        ]
    findings = []
    if len(values) > 1:
        findings.append(
            at.violation(
                f"--gpu-backend is given {len(values)} times ({', '.join(values)})",
                "keep exactly one `--gpu-backend cuda`",
            )
        )
    for value in dict.fromkeys(values):
        if value not in allowed:
            findings.append(at.violation(_problem(value, config["allowCpu"]), "use `--gpu-backend cuda`"))
    return findings


def fix(w: Workload, c: Container, wire: dict[str, Any], config: Mapping[str, Any]) -> bool:
    """Drop every --gpu-backend and append `--gpu-backend cuda` to the list that carries shimmy's args."""
    if c.run.editable is None or c.run.unknown:
        return False  # a shell script or the image's CMD: not safely rewritable
    lines = {key: without_flag(items(reveal(wire.get(key))), FLAG) for key in ("command", "args")}
    lines[c.run.editable] += [FLAG, "cuda"]
    for key, tokens in lines.items():
        if tokens or key in wire:
            set_keeping_secret(wire, key, tokens)
    return True


RULE = container_rule(
    name=NAME,
    level=MANDATORY,
    description="shimmy runs with exactly one `--gpu-backend cuda` (never auto, cpu or another backend).",
    catches="missing flag (auto), `auto`, `cpu`, `vulkan`/`opencl`, the flag twice, SHIMMY_GPU_BACKEND "
    "instead of the flag",
    check=check,
    fix=fix,
    options={"allowCpu": ALLOW_CPU},
)
