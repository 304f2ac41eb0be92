"""GpuVerification: opt-in, namespaced permissions only, re-run on a new image."""

import sys

from tests.components.test_service import shipped_imports
from tests.program import ROOT, run_program

JOB = "kubernetes:batch/v1:Job"


def test_off_by_default(program):
    assert program.of_type(JOB) == []


def test_declares_a_job_that_may_only_list_pods_and_read_their_logs_here():
    program = run_program("prod", {"verifyGpu": True, "verifyMinDecodeTokensPerSecond": 40})
    (role,) = program.of_type("kubernetes:rbac.authorization.k8s.io/v1:Role")
    # exactly what gpu_proof.pod_logs calls: GET .../pods?labelSelector= and GET .../pods/NAME/log
    assert role.props["rules"] == [
        {"apiGroups": [""], "resources": ["pods"], "verbs": ["list"]},
        {"apiGroups": [""], "resources": ["pods/log"], "verbs": ["get"]},
    ]
    assert role.props["metadata"]["namespace"] == "shimmy"
    assert not any("ClusterRole" in r.type for r in program.resources)

    job = program.one(JOB).props
    pod = job["spec"]["template"]["spec"]
    assert job["spec"]["backoffLimit"] == 0
    assert job["spec"]["ttlSecondsAfterFinished"] == 86400
    assert pod["containers"][0]["image"].startswith("python:3.12-slim-bookworm@sha256:")
    env = {e["name"]: e["value"] for e in pod["containers"][0]["env"]}
    assert env["MIN_DECODE_TOKENS_PER_SECOND"] == "40"
    assert env["SHIMMY_IMAGE"] == program.exports["image"]
    assert env["SHIMMY_URL"] == program.exports["url"]
    assert env["POD_SELECTOR"] == "app.kubernetes.io/name=shimmy,app.kubernetes.io/instance=shimmy-prod"
    assert pod["containers"][0]["securityContext"]["runAsNonRoot"] is True


def test_ships_the_tested_proof_byte_for_byte():
    program = run_program("dev", {"verifyGpu": True})
    (config_map,) = [
        c for c in program.of_type("kubernetes:core/v1:ConfigMap") if "gpu_proof.py" in c.props["data"]
    ]
    proof = (ROOT / "shimmy_gpu" / "pod" / "gpu_proof.py").read_bytes().decode()
    assert config_map.props["data"] == {"gpu_proof.py": proof}
    assert shipped_imports(config_map.props["data"]) <= set(sys.stdlib_module_names)
    pod = program.one(JOB).props["spec"]["template"]["spec"]
    assert pod["containers"][0]["command"] == ["python", "/proof/gpu_proof.py"]
