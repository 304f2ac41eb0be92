"""Image references and the registry in stack config, read through the grammar of references.py,
so that a refused value is named by the part at fault (port, host, path, tag, digest)."""

from __future__ import annotations

import re

from shimmy_gpu import references
from shimmy_gpu.config_reader import Reader
from shimmy_gpu.values import Allowed

PINNED = (
    "an image pinned by digest, e.g. debian:bookworm-slim@sha256:<64 hex> (by tag only from a loopback "
    "registry, with localRegistry true)"
)
REGISTRY = "a registry host[:port] such as registry.example.com"
# A first sieve, printable ASCII without spaces, so that the grammar only ever sees such text.
_PRINTABLE = re.compile(r"[!-~]+")


def image(r: Reader, key: str, *, local_registry: bool) -> str:
    """An image the program builds from or runs. A tag is enough only from a loopback registry on a
    stack that says its registry is this machine's (`local_registry`): the local stacks' base images,
    which this machine built itself. Everywhere else a tag could move to another build."""
    value = r.text(key, Allowed(_PRINTABLE, PINNED))
    problem = references.image_problem(value, loopback_tags=local_registry) if value else None
    if problem:
        r.fail(key, value, f"{problem}; expected {PINNED}")
        return ""
    return value


def registry(r: Reader, key: str) -> str:
    value = r.text(key, Allowed(_PRINTABLE, REGISTRY), optional=True)
    problem = references.registry_problem(value) if value else None
    if problem:
        r.fail(key, value, f"{problem}; expected {REGISTRY}")
        return ""
    return value
