"""Lookups several scripts need live once (scripts/common.sh, scripts/pins.py): no script writes
them again."""

from __future__ import annotations

import re
import subprocess

import pytest

from scripts.pins import pinned, pins
from tests.program import ROOT

SHELL = sorted([*ROOT.glob("scripts/**/*.sh"), *ROOT.glob("benchmarks/**/*.sh")])


def test_only_common_sh_writes_the_policy_pack_arguments():
    assert ROOT / "scripts" / "common.sh" in SHELL
    own = [
        str(p.relative_to(ROOT)) for p in SHELL if p.name != "common.sh" and "--policy-pack" in p.read_text()
    ]
    assert own == []
    assert "policy_args" in (ROOT / "scripts" / "preview.sh").read_text()


def test_pins_reads_name_equals_version_lines(tmp_path):
    requirements = tmp_path / "requirements.txt"
    requirements.write_text("# pins\n-r other.txt\nPulumi==3.1.0  # the SDK\npulumi-docker>=5\n-e ./policy\n")
    assert pins(requirements) == {"pulumi": "3.1.0"}
    assert pinned("pulumi", requirements) == "3.1.0"
    with pytest.raises(LookupError, match="pins no pulumi-docker=="):
        pinned("pulumi-docker", requirements)


def test_the_cli_version_the_scripts_install_is_the_sdk_pin():
    version = subprocess.run(
        ["bash", "-c", "source scripts/common.sh && pulumi_cli_version"],
        cwd=ROOT, capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    assert version == f"{pinned('pulumi')}\n"
    assert re.fullmatch(r"\d+\.\d+\.\d+", pinned("pulumi"))


def test_no_script_or_workflow_parses_requirements_itself():
    files = [*SHELL, *ROOT.glob(".github/workflows/*.yml")]
    parsing = [
        str(p.relative_to(ROOT))
        for p in files
        if re.search(r"\b(sed|grep|awk)\b[^\n]*requirements", p.read_text())
    ]
    assert parsing == []
