"""A corpus case: a manifest as another program writes it, and the mandatory violations it must give.

Each manifest is what the engine hands the pack for that resource: the object's fields in camelCase.
`@DIGEST` stands for a real-looking sha256 digest.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import yaml
from shimmy_policy.rule_types import Resource

DIGEST = "sha256:" + "3f9a1c0de5b27481" * 4


def type_token(manifest: dict[str, Any]) -> str:
    """The type token the engine gives a Kubernetes object, a CustomResource's too.

    `apps/v1` Deployment -> `kubernetes:apps/v1:Deployment`; `v1` Pod -> `kubernetes:core/v1:Pod`.
    """
    group, _, version = manifest["apiVersion"].rpartition("/")
    return f"kubernetes:{group or 'core'}/{version}:{manifest['kind']}"


def resource(manifest: dict[str, Any], name: str | None = None) -> Resource:
    """The resource the engine hands the pack for a Kubernetes object (named after metadata.name)."""
    return Resource(type_token(manifest), name or manifest["metadata"]["name"], manifest)


@dataclass(frozen=True)
class Case:
    id: str
    manifest: str
    expected: frozenset[tuple[str, str]] = frozenset()  # (rule, container or resource name)

    def document(self) -> dict[str, Any]:
        return yaml.safe_load(self.manifest.replace("@DIGEST", "@" + DIGEST))

    def resource(self) -> Resource:
        """The resource as the engine passes it: type token, Pulumi name, properties."""
        doc = self.document()
        if "type" in doc:  # a non-Kubernetes resource: its token and inputs
            return Resource(doc["type"], doc["name"], doc["props"])
        return resource(doc)


def case(id_: str, expected: str, manifest: str) -> Case:
    """`expected`: "rule:container, rule:container" (the resource name where no container is at fault)."""
    pairs = frozenset(tuple(item.strip().split(":", 1)) for item in expected.split(",") if item.strip())
    return Case(id_, manifest, pairs)  # type: ignore[arg-type]
