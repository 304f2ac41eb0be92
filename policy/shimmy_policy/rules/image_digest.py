"""image-digest: a shimmy container's image is pinned by digest, so a tag cannot move it to a CPU build."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from shimmy_policy.model import MANDATORY, Finding, Subject, flag
from shimmy_policy.props import is_unknown
from shimmy_policy.recognition import image_repository
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
    if not config["requireDigest"] and tag not in ("", "latest"):
        return []
    return [
        at.violation(
            f"image {image!r} is not pinned by digest; a tag can move to another build (a CPU-only one) "
            "without any change in this stack",
            f"use `{repository}@sha256:<digest>` (pulumi-docker: Image.repo_digest)",
        )
    ]


RULE = container_rule(
    name=NAME,
    level=MANDATORY,
    description="A shimmy container's image is pinned by digest (`@sha256:`).",
    catches="an image by tag or without tag; unknown at preview (first build): reported, checked at update",
    check=check,
    options={"requireDigest": flag("false: also accept an image by a tag other than latest.", True)},
)
