"""gpu-toleration: the rule function on its own."""

from shimmy_policy.rules.gpu_toleration import RULE

from tests.policy.corpus import resource
from tests.policy.corpus.builders import deployment, pod_spec
from tests.policy.evaluate import rule_findings


def test_gpu_nodes_need_the_gpu_taint_tolerated():
    props = deployment()
    pod = pod_spec(props)
    pod["nodeSelector"] = {"nvidia.com/gpu.product": "Tesla-T4"}
    (f,) = rule_findings(RULE, resource(props))
    assert "does not tolerate the nvidia.com/gpu:NoSchedule taint" in f.message
    pod["tolerations"] = [{"key": "dedicated", "operator": "Exists"}]
    assert len(rule_findings(RULE, resource(props))) == 1
    pod["tolerations"].append(
        {"key": "nvidia.com/gpu", "operator": "Equal", "value": "present", "effect": "NoSchedule"}
    )
    assert rule_findings(RULE, resource(props)) == []


def test_affinity_on_gpu_labels_counts_and_a_wildcard_toleration_passes():
    props = deployment()
    pod = pod_spec(props)
    expression = {"key": "nvidia.com/gpu.present", "operator": "In", "values": ["true"]}
    terms = [{"matchExpressions": [expression]}]
    pod["affinity"] = {
        "nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": terms}}
    }
    assert len(rule_findings(RULE, resource(props))) == 1
    pod["tolerations"] = [{"operator": "Exists"}]
    assert rule_findings(RULE, resource(props)) == []
