"""shimmy-patches: a build of shimmy 1.9.0 carries this project's patches, or says what it costs.

It reads the build args of a shimmy image build: the version (facts.ARG_VERSION) and the patches
applied (facts.ARG_PATCHES, comma-separated; absent or empty: shimmy as published). Other releases
have no patches to miss: the cuda-image rule judges the version.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from shimmy_facts import ARG_PATCHES, ARG_VERSION, PATCH_COSTS, PATCH_NAMES, PATCHED_RELEASE

from shimmy_policy.builds import shimmy_build
from shimmy_policy.recognition import RECOGNITION_SCHEMA
from shimmy_policy.rule_types import ADVISORY, Finding, Resource, ResourceRule

NAME = "shimmy-patches"


def check(resource: Resource, config: Mapping[str, Any]) -> list[Finding]:
    build = shimmy_build(resource, config, NAME)
    if build is None:
        return []
    if build.args is None:
        return [build.at.pending("the build args")]
    if str(build.args.get(ARG_VERSION, "")).removeprefix("v") != PATCHED_RELEASE:
        return []
    applied = build.args.get(ARG_PATCHES) or ""
    named = {part.strip() for part in str(applied).split(",") if part.strip()}
    findings = []
    for name in PATCH_NAMES:
        if name not in named:
            findings.append(
                build.at.violation(
                    f"shimmy {PATCHED_RELEASE} is built without the {name} patch: {PATCH_COSTS[name]}",
                    f"add {name} to the stack's shimmyPatches (docs/patches.md)",
                )
            )
    return findings


RULE = ResourceRule(
    name=NAME,
    level=ADVISORY,
    description=f"A shimmy {PATCHED_RELEASE} image build applies every patch of docker/patches/.",
    catches="a build as published or with patches left out, and what each missing one costs",
    check=check,
    recognition={"imagePattern": RECOGNITION_SCHEMA["imagePattern"]},
)
