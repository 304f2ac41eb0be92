"""Which containers are shimmy servers, and the config keys that say so (defined once, shared by rules)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from shimmy_facts import EXECUTABLE, TOOL_SUBCOMMANDS

from shimmy_policy.cmdline import Invocation, runs_executable
from shimmy_policy.container_fields import literal_env
from shimmy_policy.locations import PodLocation, extra_location
from shimmy_policy.props import is_unknown, items, mapping


@dataclass(frozen=True)
class Recognition:
    """How a container is recognised as shimmy (any one signal suffices)."""

    container_names: frozenset[str] = frozenset({"shimmy"})
    # Searched in the image repository (no tag or digest): by default its last path segment.
    image_pattern: str = r"(^|/)[^/]*shimmy[^/]*$"
    pod_labels: Mapping[str, str] = field(default_factory=dict)
    executables: frozenset[str] = frozenset({EXECUTABLE})
    # Where to look beyond the known pod specs and the search: (kind pattern, location) pairs.
    extra_paths: tuple[tuple[str, PodLocation], ...] = ()
    # Kinds (`Kind`, `group/Kind` or `apiVersion/Kind`) never taken for workloads.
    exclude_kinds: tuple[str, ...] = ()
    # Containers in front of shimmy in its pod (a request gate, a proxy): they take its traffic.
    front_containers: frozenset[str] = frozenset({"shimmy-gate"})

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> Recognition:
        extra = (extra_location(mapping(entry)) for entry in items(config.get("extraPodSpecPaths")))
        return cls(
            container_names=frozenset(config.get("containerNames", cls.container_names)),
            image_pattern=config.get("imagePattern", cls.image_pattern),
            pod_labels=dict(config.get("podLabels") or {}),
            executables=frozenset(config.get("executables", cls.executables)),
            extra_paths=tuple(e for e in extra if e is not None),
            exclude_kinds=tuple(k for k in items(config.get("excludeKinds")) if isinstance(k, str)),
            front_containers=frozenset(config.get("frontContainers", cls.front_containers)),
        )

    def is_shimmy(self, container: Mapping[str, Any], pod_labels: Mapping[str, Any], run: Invocation) -> bool:
        if run.subcommand in TOOL_SUBCOMMANDS:
            return False
        if container.get("name") in self.container_names:
            return True
        image = container.get("image")
        if isinstance(image, str) and not is_unknown(image) and self.shimmy_image(image):
            return True
        if self.pod_labels and all(pod_labels.get(k) == v for k, v in self.pod_labels.items()):
            return True
        command = [t for t in items(container.get("command")) if isinstance(t, str)]
        args = [t for t in items(container.get("args")) if isinstance(t, str)]
        return runs_executable(command, args, literal_env(container), self.executables)

    def shimmy_image(self, image: str) -> bool:
        return re.search(self.image_pattern, image_repository(image)) is not None


def image_repository(image: str) -> str:
    """`registry:5000/ml/shimmy:1.9@sha256:...` -> `registry:5000/ml/shimmy`."""
    name = image.split("@", 1)[0]
    slash = name.rfind("/")
    colon = name.rfind(":")
    return name[:colon] if colon > slash else name


RECOGNITION_SCHEMA: dict[str, dict[str, Any]] = {
    "containerNames": {
        "type": "array",
        "items": {"type": "string"},
        "default": sorted(Recognition.container_names),
        "description": "Container names that are shimmy.",
    },
    "imagePattern": {
        "type": "string",
        "default": Recognition.image_pattern,
        "description": "Regular expression searched in the image repository (without tag or digest).",
    },
    "podLabels": {
        "type": "object",
        "additionalProperties": {"type": "string"},
        "default": {},
        "description": "Pod labels that mark every (non-init) container of the pod as shimmy; empty: unused.",
    },
    "executables": {
        "type": "array",
        "items": {"type": "string"},
        "default": sorted(Recognition.executables),
        "description": "Executable names whose invocation in command/args marks a container as shimmy.",
    },
    "extraPodSpecPaths": {
        "type": "array",
        "items": {
            "type": "object",
            "properties": {
                "kind": {"type": "string", "description": "Kind, group/Kind or apiVersion/Kind."},
                "path": {
                    "type": "string",
                    "description": "Dotted path to a pod spec; * for any key or index.",
                },
                "containerPath": {"type": "string", "description": "Dotted path to one container."},
            },
            "required": ["kind"],
            "anyOf": [{"required": ["path"]}, {"required": ["containerPath"]}],
            "additionalProperties": False,
        },
        "default": [],
        "description": "Pod specs (or single containers) of a kind that the known paths and the search miss.",
    },
    "frontContainers": {
        "type": "array",
        "items": {"type": "string"},
        "default": sorted(Recognition.front_containers),
        "description": "Containers that take shimmy's traffic in front of it in its pod (a request gate, "
        "a proxy): shimmy may then listen on loopback only, and the Service targets their port.",
    },
    "excludeKinds": {
        "type": "array",
        "items": {"type": "string"},
        "default": [],
        "description": "Kinds (Kind, group/Kind or apiVersion/Kind) never searched for shimmy containers.",
    },
}
