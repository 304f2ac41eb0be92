"""Stacks of the shipped program that the real engine can `up` on this machine.

A GPU stack (dev, prod) pushes to a team registry and applies to a cluster; here its image goes to
the registry on 127.0.0.1:5000 from the base images of scripts/base-images.sh, and its manifests
are rendered into the workspace. Compiling llama.cpp's CUDA kernels takes over half an hour on two
cores, so the cuda profile's builder gets a stand-in `cargo` that installs a placeholder binary
(and a stand-in `nvprune`, the toolkit being absent too):
everything else is real (the generated cuda Dockerfile built by pulumi-docker with BuildKit, the
push, the digest, the rendered Deployment, the engine's diff). The real cuda build is docs/image.md's.
"""

from __future__ import annotations

import subprocess
import tempfile
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from tests.engine.cli import ROOT, Workspace

DOCKER = "/usr/bin/docker"  # Debian's CLI: BuildKit without the buildx plugin
STUB_RUST_IMAGE = "127.0.0.1:5000/shimmy-engine-tests/stub-rust:2"
STUB_CARGO = """#!/bin/sh
# Stand-in for `cargo install --root DIR ...`: installs a placeholder as DIR/bin/shimmy.
while [ $# -gt 0 ]; do
  if [ "$1" = --root ]; then root=$2; fi
  shift
done
mkdir -p "$root/bin" && cp /bin/true "$root/bin/shimmy"
"""
# The builder has no CUDA toolkit either: nvprune's stand-in writes an empty archive where it was
# asked to (its folder is on the builder's PATH, ahead of the toolkit's).
STUB_NVPRUNE = """#!/bin/sh
while [ $# -gt 0 ]; do
  if [ "$1" = -o ]; then out=$2; fi
  shift
done
: > "$out"
"""


def stack_file(stack: str) -> dict[str, Any]:
    """A committed stack file's config, keys without the project prefix."""
    config = yaml.safe_load((ROOT / f"Pulumi.{stack}.yaml").read_text())["config"]
    return {key.split(":", 1)[1]: value for key, value in config.items()}


@cache
def stub_rust_image() -> str:
    """The local Rust base image with `cargo` replaced by STUB_CARGO, in the local registry."""
    base = stack_file("local")["runtimeImage"]
    env = {"DOCKER_BUILDKIT": "1", "PATH": "/usr/bin:/bin"}
    with tempfile.TemporaryDirectory() as context:
        Path(context, "cargo").write_text(STUB_CARGO)
        Path(context, "nvprune").write_text(STUB_NVPRUNE)
        Path(context, "Dockerfile").write_text(
            f"FROM {base}\nCOPY cargo nvprune /usr/local/cargo/bin/\n"
            "RUN chmod 755 /usr/local/cargo/bin/* && mkdir -p /usr/local/rustup\n"
        )
        subprocess.run(
            [DOCKER, "build", "-q", "-t", STUB_RUST_IMAGE, context], check=True, env=env, capture_output=True
        )
    subprocess.run([DOCKER, "push", "-q", STUB_RUST_IMAGE], check=True, env=env, capture_output=True)
    return STUB_RUST_IMAGE


def on_this_machine(stack: str, **overrides: Any) -> dict[str, Any]:
    """`stack`'s config with its registry, base images and cluster moved to this machine."""
    local = stack_file("local")
    config = {
        **stack_file(stack),
        "registryServer": local["registryServer"],
        "localRegistry": True,  # the registry and base images are this machine's, by tag
        "builderImage": local["builderImage"],
        "runtimeImage": local["runtimeImage"],
        "rustImage": stub_rust_image(),
        "renderManifestsTo": "rendered",
        **overrides,
    }
    return config


def write_stack(ws: Workspace, stack: str, config: dict[str, Any]) -> None:
    """Replace the workspace's Pulumi.<stack>.yaml (keeping the salt the stack was created with)."""
    path = ws.dir / f"Pulumi.{stack}.yaml"
    salt = (yaml.safe_load(path.read_text()) or {}).get("encryptionsalt") if path.exists() else None
    document: dict[str, Any] = {"config": {f"shimmy-gpu:{key}": value for key, value in config.items()}}
    if salt:
        document["encryptionsalt"] = salt
    path.write_text(yaml.safe_dump(document, sort_keys=False))
