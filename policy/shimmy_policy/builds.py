"""Image builds of shimmy images, as pulumi-docker and docker-build state them; rules read their
build args (facts.ARG_*)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from shimmy_facts import ARG_VERSION

from shimmy_policy.props import get, is_unknown, mapping
from shimmy_policy.recognition import Recognition
from shimmy_policy.rule_types import Resource, Subject

IMAGE_TYPES = {
    # pulumi-docker v4+: imageName + build.args; docker-build: tags + buildArgs.
    "docker:index/image:Image": (("imageName",), ("build", "args")),
    "docker-build:index:Image": (("tags",), ("buildArgs",)),
}


@dataclass(frozen=True)
class ShimmyBuild:
    at: Subject
    args: Mapping[str, Any] | None  # None while the engine has not resolved them (preview)


def shimmy_build(resource: Resource, config: Mapping[str, Any], rule: str) -> ShimmyBuild | None:
    """The build of a shimmy image (named so, or stating a shimmy version), or None for any other."""
    if resource.type not in IMAGE_TYPES:
        return None
    names_path, args_path = IMAGE_TYPES[resource.type]
    names = get(resource.props, *names_path)
    names = [
        n for n in (names if isinstance(names, list) else [names]) if isinstance(n, str) and not is_unknown(n)
    ]
    build_args = get(resource.props, *args_path)
    shimmy_named = any(Recognition.from_config(config).shimmy_image(n) for n in names)
    if not shimmy_named and not (isinstance(build_args, Mapping) and ARG_VERSION in build_args):
        return None
    at = Subject(rule, f"Image {resource.name!r}" + (f" ({names[0]})" if names else ""))
    if is_unknown(build_args) or any(is_unknown(v) for v in mapping(build_args).values()):
        return ShimmyBuild(at, None)
    return ShimmyBuild(at, mapping(build_args))
