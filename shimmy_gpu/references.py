"""Image references as distribution's reference grammar reads them (the package Docker, containerd
and the kubelet parse with), and which part of a refused one is at fault, so the error names it.

Stricter than the grammar where that keeps a value safe and canonical: registry hosts are lower-case
DNS names or IPv4 addresses (or loopback [::1]), ports run from 1 to 65535 without leading zeros,
and a digest is sha256 in lower-case hex (the only kind an image is pinned by here).
"""

from __future__ import annotations

import re

import shimmy_facts as facts

LABEL = r"[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?"
# A DNS name of at most 253 characters (the look-ahead refuses a 254th before the labels run).
DNS_NAME = rf"(?![-a-z0-9.]{{254}}){LABEL}(\.{LABEL})*"
PORT = r"(6553[0-5]|655[0-2][0-9]|65[0-4][0-9]{2}|6[0-4][0-9]{3}|[1-5][0-9]{4}|[1-9][0-9]{0,3})"
HOST_PORT = rf"{DNS_NAME}(:{PORT})?"
LOOPBACK = rf"({'|'.join(map(re.escape, facts.LOOPBACK_HOSTS))})(:{PORT})?"
# The grammar's separators: one period, one or two underscores, any number of dashes.
PATH_COMPONENT = r"[a-z0-9]+((\.|__?|-+)[a-z0-9]+)*"
PATH = rf"{PATH_COMPONENT}(/{PATH_COMPONENT})*"
TAG = r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}"
DIGEST = r"sha256:[0-9a-f]{64}"
NAME_MAX = 255  # the grammar's limit on registry + path

_TAG_RULE = "letters, digits, _ . -, at most 128, not starting with . or -"
_PATH_RULE = "lower-case letters and digits, joined by one ., one or two _ or any number of -"


def split(reference: str) -> tuple[str, str, str | None, str | None]:
    """(registry, path, tag, digest) as the grammar splits a reference; the registry is "" for Docker
    Hub, tag and digest None where absent. Nothing is checked."""
    name, at, digest = reference.partition("@")
    tag = None
    slash, colon = name.rfind("/"), name.rfind(":")
    if colon > slash:
        name, tag = name[:colon], name[colon + 1 :]
    first, sep, rest = name.partition("/")
    # Docker reads the first component as a registry only with a dot or a port, or as localhost;
    # any other first component is a path on Docker Hub.
    if sep and ("." in first or ":" in first or first == "localhost" or first.startswith("[")):
        return first, rest, tag, digest if at else None
    return "", name, tag, digest if at else None


def registry_problem(registry: str) -> str | None:
    """What is wrong with a registry host[:port], or None."""
    if re.search(r"[/@]", registry):
        return "a registry is host[:port] alone, without scheme, user or path"
    host, port = registry, None
    if re.fullmatch(r"(\[[^]]*\]|[^:]*):[^:]*", registry):
        host, _, port = registry.rpartition(":")
    if port is not None:
        if not re.fullmatch(r"[0-9]+", port):
            return f"the registry port {port!r} is not a number"
        if not re.fullmatch(PORT, port):
            return f"the registry port {port} is outside 1 to 65535 (or has a leading zero)"
    if not re.fullmatch(rf"{DNS_NAME}|\[::1\]", host):
        return (
            f"the registry host {host!r} is not a lower-case DNS name or IPv4 address of at most 253 "
            "characters"
        )
    if port is None and "." not in host and host not in ("localhost", "[::1]"):
        return (
            f"Docker reads {host!r} without a dot or a port as a path on Docker Hub, not as a registry; "
            "write e.g. registry.example.com or registry:5000"
        )
    return None


def path_problem(path: str) -> str | None:
    for component in path.split("/"):
        if not re.fullmatch(PATH_COMPONENT, component):
            return f"the path component {component!r} is not {_PATH_RULE}"
    return None


def tag_problem(tag: str) -> str | None:
    return None if re.fullmatch(TAG, tag) else f"the tag {tag!r} is not a tag ({_TAG_RULE})"


def image_problem(reference: str, *, loopback_tags: bool) -> str | None:
    """The first part of `reference` that the grammar (or this project's pinning) refuses, or None.

    loopback_tags: the stack's registry on the loopback interface is this machine's own, so an
    image from it may go by tag (the local stacks' base images); otherwise a digest is required.
    """
    registry, path, tag, digest = split(reference)
    if digest is not None and not re.fullmatch(DIGEST, digest):
        return f"the digest {digest!r} is not sha256: and 64 lower-case hex digits"
    problem = (
        (tag_problem(tag) if tag is not None else None)
        or (registry_problem(registry) if registry else None)
        or path_problem(path)
    )
    if problem:
        return problem
    name = f"{registry}/{path}" if registry else path
    if len(name) > NAME_MAX:
        return f"the name {name[:40]!r}... is {len(name)} characters long, at most {NAME_MAX}"
    if digest is None and is_loopback(registry) and not loopback_tags:
        return (
            "it is not pinned by digest, and a tag from a loopback registry is allowed only on a stack "
            "whose registry is this machine's (localRegistry true)"
        )
    if digest is None and not is_loopback(registry):
        return "it is not pinned by digest: a tag can move to another build"
    if digest is None and tag is None:
        return "it names neither a tag nor a digest"
    return None


def is_loopback(registry: str) -> bool:
    """Whether a registry host[:port] is one of the loopback spellings this project accepts."""
    return re.fullmatch(LOOPBACK, registry) is not None
