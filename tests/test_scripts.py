"""Lookups several scripts need live once, in scripts/common.sh: no script writes them again."""

from __future__ import annotations

from tests.program import ROOT

SHELL = sorted([*ROOT.glob("scripts/**/*.sh"), *ROOT.glob("benchmarks/**/*.sh")])


def test_only_common_sh_writes_the_policy_pack_arguments():
    assert ROOT / "scripts" / "common.sh" in SHELL
    own = [
        str(p.relative_to(ROOT)) for p in SHELL if p.name != "common.sh" and "--policy-pack" in p.read_text()
    ]
    assert own == []
    assert "policy_args" in (ROOT / "scripts" / "preview.sh").read_text()
