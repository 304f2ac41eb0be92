"""How the Deployment rolls out, and what `pulumi up` waits for before it calls a rollout done.

pulumi-kubernetes 4.25.0 awaits a Deployment update by its revision annotation and conditions. On a
Recreate update the controller first scales the old ReplicaSet to 0 and reports a status for the new
generation that still carries the old revision, Available and NewReplicaSetAvailable: the provider
takes that for "no rollout" and returns while no pod runs at all. So a patch of the same Deployment
waits (`pulumi.com/waitFor`) until every replica runs the new template and is available; it changes
whenever the template does, so every rollout is waited for.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

# On the Deployment: the digest of the pod template the last `pulumi up` waited for.
TEMPLATE_ANNOTATION = "shimmy-gpu.io/pod-template-sha256"


def deployment_strategy() -> dict[str, Any]:
    """Recreate: with one GPU per node a surge pod would wait for a GPU the old pod holds, forever."""
    return {"type": "Recreate"}


def finished(replicas: int) -> str:
    """The `pulumi.com/waitFor` conditions of a finished rollout of `replicas` pods. The provider
    checks them only once the status is of the Deployment's current generation."""
    conditions = [
        f"jsonpath={{.status.{field}}}={replicas}"
        for field in ("replicas", "updatedReplicas", "readyReplicas", "availableReplicas")
    ]
    conditions.append("jsonpath={.status.conditions[?(@.type=='Progressing')].reason}=NewReplicaSetAvailable")
    return json.dumps(conditions)


def template_digest(template: dict[str, Any]) -> str:
    """sha256 of the pod template as declared (resolved): changes whenever a rollout follows."""
    return hashlib.sha256(json.dumps(template, sort_keys=True, default=str).encode()).hexdigest()
