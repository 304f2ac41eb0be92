import json

from shimmy_gpu import rollout


def test_rollout_cannot_wait_for_its_own_gpu():
    assert rollout.deployment_strategy() == {"type": "Recreate"}


def test_a_rollout_is_finished_when_every_replica_runs_the_new_template_and_is_available():
    assert json.loads(rollout.finished(3)) == [
        "jsonpath={.status.replicas}=3",
        "jsonpath={.status.updatedReplicas}=3",
        "jsonpath={.status.readyReplicas}=3",
        "jsonpath={.status.availableReplicas}=3",
        "jsonpath={.status.conditions[?(@.type=='Progressing')].reason}=NewReplicaSetAvailable",
    ]


def test_the_template_digest_follows_every_change_and_not_the_order_of_keys():
    template = {
        "metadata": {"labels": {"a": "1", "b": "2"}},
        "spec": {"containers": [{"image": "x@sha256:1"}]},
    }
    same = {"spec": {"containers": [{"image": "x@sha256:1"}]}, "metadata": {"labels": {"b": "2", "a": "1"}}}
    new_image = {**template, "spec": {"containers": [{"image": "x@sha256:2"}]}}
    assert rollout.template_digest(template) == rollout.template_digest(same)
    assert rollout.template_digest(template) != rollout.template_digest(new_image)
    assert len(rollout.template_digest(template)) == 64
