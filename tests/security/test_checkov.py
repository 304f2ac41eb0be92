"""checkov, an independent scanner, on what the program deploys and builds: every stack's objects
(with the GPU verification on too) and the Dockerfile of each stack. A failed check fails the test
unless tests/security/checkov-skips.yaml names it with its reason."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
import yaml

from shimmy_gpu.config import parse_settings
from shimmy_gpu.dockerfile import render_dockerfile
from shimmy_gpu.stack_config import raw_config
from tests.program import ROOT, STACKS, manifests, run_program

SKIPS = yaml.safe_load((Path(__file__).parent / "checkov-skips.yaml").read_text())
SCANNED = [f"{stack}/objects.yaml" for stack in STACKS]
SCANNED += [f"{stack}-verify/objects.yaml" for stack in STACKS]
SCANNED += [f"{stack}/Dockerfile" for stack in STACKS]


# The tracked Pulumi.local.yaml names the pod's images made here by tag; scripts/up.sh pins them by
# the digests the registry gives them before every update, so the scan sees them pinned too.
PINNED = {
    "local": {
        key: f"127.0.0.1:5000/shimmy-base/{name}@sha256:{'0' * 64}"
        for key, name in (("pythonImage", "python"), ("modelFetcherImage", "fetch"))
    }
}


@pytest.fixture(scope="module")
def reports(tmp_path_factory) -> dict[str, dict]:
    """One checkov run over every stack's objects and Dockerfile; its results by file."""
    root = tmp_path_factory.mktemp("scan")
    for stack in STACKS:
        for folder, verify in ((stack, False), (f"{stack}-verify", True)):
            (root / folder).mkdir()
            objects = manifests(run_program(stack, {**PINNED.get(stack, {}), "verifyGpu": verify}))
            (root / folder / "objects.yaml").write_text(yaml.safe_dump_all(objects))
        build = parse_settings(stack, raw_config(stack, secret="x")).build
        (root / stack / "Dockerfile").write_text(render_dockerfile(build))
    result = subprocess.run(
        ["bash", str(ROOT / "scripts" / "checkov.sh"), "-d", str(root), "--framework", "kubernetes",
         "dockerfile", "--skip-check", ",".join(SKIPS), "--compact", "-o", "json"],
        capture_output=True, text=True, timeout=900,
    )  # fmt: skip
    by_file: dict[str, dict] = {name: {"passed": 0, "failed": []} for name in SCANNED}
    for report in json.loads(result.stdout):
        assert report["summary"]["parsing_errors"] == 0, result.stderr
        for outcome in ("passed", "failed"):
            for check in report["results"][f"{outcome}_checks"]:
                name = check["file_path"].lstrip("/")
                if outcome == "passed":
                    by_file[name]["passed"] += 1
                else:
                    by_file[name]["failed"].append(
                        f"{check['check_id']} {check['resource']}: {check['check_name']}"
                    )
    return by_file


def test_every_skip_has_a_reason():
    assert SKIPS and all(isinstance(reason, str) and len(reason) > 40 for reason in SKIPS.values())


@pytest.mark.parametrize("name", SCANNED)
def test_no_check_fails_without_a_written_reason(reports, name):
    assert reports[name]["passed"] > 20  # the file was scanned
    assert reports[name]["failed"] == []
