"""image-digest: a shimmy container's image is pinned by digest, so a tag cannot move it to a CPU build.

A tag from a loopback registry names whatever the pulling node runs on 127.0.0.1: only a local
stack, whose registry is this machine's, may accept one (`allowLoopbackTags` in its policy config,
as policy/config/local.json sets it); `requireDigest: false` never lets one through elsewhere.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import shimmy_facts as facts

from shimmy_policy.props import is_unknown
from shimmy_policy.recognition import image_repository
from shimmy_policy.rule_types import MANDATORY, Finding, Subject, flag
from shimmy_policy.workloads import Container, Workload, container_rule

NAME = "image-digest"
DIGEST = re.compile(r"@sha256:[0-9a-f]{64}$")


def check(at: Subject, w: Workload, c: Container, config: Mapping[str, Any]) -> list[Finding]:
    image = c.spec.get("image")
    if is_unknown(image):
        return [at.pending("the image (built by this update, its digest does not exist yet)")]
    if not isinstance(image, str) or not image:
        return [at.violation("no image", "set `image: <repository>@sha256:<digest>`")]
    if DIGEST.search(image):
        return []
    repository = image_repository(image)
    tag = image[len(repository) + 1 :] if len(image) > len(repository) else ""
    if _loopback(repository):
        if tag and config["allowLoopbackTags"]:
            return []
        return [
            at.violation(
                f"image {image!r} is a tag from a loopback registry: on a cluster it is whatever the node "
                "runs on its own 127.0.0.1, and nothing pins which build that is",
                f"use `{repository}@sha256:<digest>`, or on a local stack whose registry is this machine's "
                "set allowLoopbackTags in its policy config (policy/config/local.json)",
            )
        ]
    if not config["requireDigest"] and tag not in ("", "latest"):
        return []
    return [
        at.violation(
            f"image {image!r} is not pinned by digest; a tag can move to another build (a CPU-only one) "
            "without any change in this stack",
            f"use `{repository}@sha256:<digest>` (pulumi-docker: Image.repo_digest)",
        )
    ]


def _loopback(repository: str) -> bool:
    """Whether the repository's registry (its first component, port or not) is on loopback."""
    first, slash, _ = repository.partition("/")
    host = re.sub(r":[0-9]*$", "", first) if not first.endswith("]") else first
    return bool(slash) and host in facts.LOOPBACK_HOSTS


RULE = container_rule(
    name=NAME,
    level=MANDATORY,
    description="A shimmy container's image is pinned by digest (`@sha256:`).",
    catches="an image by tag or without tag, a tag from a loopback registry; unknown at preview (first "
    "build): reported, checked at update",
    check=check,
    options={
        "requireDigest": flag(
            "false: also accept an image by a tag other than latest (never from loopback).", True
        ),
        "allowLoopbackTags": flag(
            "true: accept a tag from a loopback registry (127.0.0.1, localhost, [::1]). Only for a local "
            "stack, whose registry is this machine's."
        ),
    },
)
