"""gpu-toleration (advisory): a pod that selects GPU nodes tolerates their taint."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any

from shimmy_facts import GPU_NODE_LABEL_PREFIX, GPU_TAINT_KEY

from shimmy_policy.props import get, items, mapping
from shimmy_policy.rule_types import ADVISORY, Finding, Subject
from shimmy_policy.workloads import Workload, workload_rule

NAME = "gpu-toleration"


def gpu_node_keys(pod_spec: Mapping[str, Any], prefixes: Sequence[str]) -> list[str]:
    """The node label keys the pod requires (nodeSelector, required node affinity) that mean GPU nodes."""
    keys = list(mapping(pod_spec.get("nodeSelector")))
    terms = get(
        pod_spec,
        "affinity",
        "nodeAffinity",
        "requiredDuringSchedulingIgnoredDuringExecution",
        "nodeSelectorTerms",
    )
    for term in items(terms):
        keys += [
            get(e, "key")
            for e in items(get(term, "matchExpressions"))
            if get(e, "operator") != "DoesNotExist"
        ]
    return [k for k in keys if isinstance(k, str) and k.startswith(tuple(prefixes))]


def tolerates(pod_spec: Mapping[str, Any], taint: str) -> bool:
    for t in items(pod_spec.get("tolerations")):
        t = mapping(t)
        if t.get("effect") not in (None, "", "NoSchedule"):
            continue
        if t.get("key") == taint or (not t.get("key") and t.get("operator") == "Exists"):
            return True
    return False


def check(at: Subject, w: Workload, config: Mapping[str, Any]) -> list[Finding]:
    taint = config["taintKey"]
    findings = []
    for pod in {c.pod.path: c.pod for c in w.shimmy}.values():
        keys = gpu_node_keys(pod.spec, config["gpuNodeLabelPrefixes"])
        if keys and not tolerates(pod.spec, taint):
            findings.append(
                replace(at, where=w.describe_pod(pod)).violation(
                    f"the pod targets GPU nodes ({', '.join(dict.fromkeys(keys))}) but does not tolerate the "
                    f"{taint}:NoSchedule taint they usually carry, so it stays Pending",
                    f"add `tolerations: [{{key: {taint}, operator: Exists, effect: NoSchedule}}]`",
                )
            )
    return findings


RULE = workload_rule(
    name=NAME,
    level=ADVISORY,
    description="A shimmy pod that selects GPU nodes tolerates their nvidia.com/gpu taint.",
    catches="nodeSelector/affinity on nvidia.com/ labels without a matching toleration",
    check=check,
    options={
        "taintKey": {"type": "string", "default": GPU_TAINT_KEY, "description": "The GPU nodes' taint key."},
        "gpuNodeLabelPrefixes": {
            "type": "array",
            "items": {"type": "string"},
            "default": [GPU_NODE_LABEL_PREFIX],
            "description": "Node label prefixes that mean GPU nodes.",
        },
    },
)
