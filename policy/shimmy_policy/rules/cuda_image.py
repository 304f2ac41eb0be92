"""cuda-image: the image build of a shimmy image really builds llama.cpp with CUDA.

It reads the build args the image build states (facts.ARG_*) from a pulumi-docker or docker-build
Image's inputs: the accelerator, the cargo features, the CUDA architectures and the shimmy version.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from shimmy_facts import (
    ARG_ACCELERATOR,
    ARG_CUDA_ARCHITECTURES,
    ARG_FEATURES,
    ARG_VERSION,
    CUDA_FEATURES,
    CUDA_RELEASE_FIRST,
    CUDA_RELEASE_LAST,
    CUDA_RELEASES,
)

from shimmy_policy.builds import shimmy_build
from shimmy_policy.recognition import RECOGNITION_SCHEMA
from shimmy_policy.rule_types import ALLOW_CPU, MANDATORY, Finding, Resource, ResourceRule, Subject

NAME = "cuda-image"
ARCHITECTURE = re.compile(r"\d+[a-z]?(-real|-virtual)?|all|all-major")


def _version(value: str) -> tuple[int, int, int] | None:
    m = re.fullmatch(r"v?(\d+)\.(\d+)\.(\d+)(?:[-+].*)?", value.strip())
    return (int(m[1]), int(m[2]), int(m[3])) if m else None


def _split(value: str) -> list[str]:
    return [part for part in re.split(r"[,;\s]+", value) if part]


def _cuda_build(at: Subject, build_args: Mapping[str, Any]) -> list[Finding]:
    """Findings on the features and architectures of a build that should have CUDA."""
    findings = []
    features = build_args.get(ARG_FEATURES)
    if not isinstance(features, str):
        findings.append(
            at.violation(
                f"no {ARG_FEATURES} build arg, so nothing shows that llama-cuda is enabled",
                f"pass `{ARG_FEATURES}=huggingface,llama-cuda` as a build arg and use it in the Dockerfile",
            )
        )
    elif not CUDA_FEATURES & set(_split(features)):
        findings.append(
            at.violation(
                f"{ARG_FEATURES}={features!r} lacks llama-cuda: llama.cpp is built for the CPU only",
                f"add llama-cuda to {ARG_FEATURES}",
            )
        )
    archs = _split(str(build_args.get(ARG_CUDA_ARCHITECTURES) or ""))
    if not archs or "native" in archs:
        findings.append(
            at.violation(
                f"{ARG_CUDA_ARCHITECTURES} is {'native' if archs else 'not set'}: llama.cpp then targets the "
                "builder's own GPU, which a GPU-less builder does not have",
                f"set `{ARG_CUDA_ARCHITECTURES}=75` (T4; add 80/86/89/90 for other GPUs)",
            )
        )
    elif not all(ARCHITECTURE.fullmatch(a) for a in archs):
        findings.append(
            at.violation(
                f"{ARG_CUDA_ARCHITECTURES}={build_args[ARG_CUDA_ARCHITECTURES]!r} is not a list of CUDA "
                "architectures",
                f"set `{ARG_CUDA_ARCHITECTURES}=75` (numbers separated by ;)",
            )
        )
    return findings


def _release(at: Subject, version: Any) -> list[Finding]:
    parsed = _version(version) if isinstance(version, str) else None
    if parsed is None:
        return [
            at.violation(
                f"{ARG_VERSION} is {version!r}, not a release number, so nothing shows a version with CUDA",
                f"pass `{ARG_VERSION}={CUDA_RELEASE_LAST}` as a build arg",
            )
        ]
    if not CUDA_RELEASES[0] <= parsed <= CUDA_RELEASES[1]:
        return [
            at.violation(
                f"shimmy {version} has no CUDA build (only {CUDA_RELEASE_FIRST} to {CUDA_RELEASE_LAST} build "
                "llama.cpp with CUDA; 2.x removed llama.cpp)",
                f"build `{ARG_VERSION}={CUDA_RELEASE_LAST}`",
            )
        ]
    return []


def check(resource: Resource, config: Mapping[str, Any]) -> list[Finding]:
    build = shimmy_build(resource, config, NAME)
    if build is None:
        return []
    at, build_args = build.at, build.args
    if build_args is None:
        return [at.pending("the build args")]
    findings = []
    accelerator = build_args.get(ARG_ACCELERATOR)
    cpu_profile = accelerator == "cpu" and config["allowCpu"]
    if accelerator not in (None, "cuda") and not cpu_profile:
        findings.append(
            at.violation(
                f"{ARG_ACCELERATOR}={accelerator} builds llama.cpp without CUDA",
                "build with accelerator cuda, or set allowCpu in this stack's cuda-image policy config for a "
                "GPU-less cluster",
            )
        )
    if not cpu_profile:
        findings += _cuda_build(at, build_args)
    return findings + _release(at, build_args.get(ARG_VERSION))


RULE = ResourceRule(
    name=NAME,
    level=MANDATORY,
    description="The image build of a shimmy image enables llama-cuda, sets CUDA architectures and builds a "
    f"release from {CUDA_RELEASE_FIRST} to {CUDA_RELEASE_LAST}.",
    catches="missing llama-cuda, no or `native` CUDA architectures, "
    f"shimmy 2.x or < {CUDA_RELEASE_FIRST}, the cpu accelerator",
    check=check,
    options={"allowCpu": ALLOW_CPU},
    recognition={"imagePattern": RECOGNITION_SCHEMA["imagePattern"]},
)
