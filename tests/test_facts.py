"""Facts that the program, the pack and the scripts all state have one home, shimmy_facts."""

from __future__ import annotations

import ast

import shimmy_facts as facts

from tests.program import ROOT

SOURCES = ("shimmy_gpu", "components", "policy/shimmy_policy")


def _strings(path) -> list[str]:
    """Every string literal of a module, f-strings' literal parts included."""
    tree = ast.parse(path.read_text())
    return [n.value for n in ast.walk(tree) if isinstance(n, ast.Constant) and isinstance(n.value, str)]


def test_the_cuda_release_range_is_written_only_in_the_facts():
    assert (facts.CUDA_RELEASE_FIRST, facts.CUDA_RELEASE_LAST) == ("1.4.2", "1.9.0")
    by_hand = [
        str(path.relative_to(ROOT))
        for folder in SOURCES
        for path in sorted((ROOT / folder).rglob("*.py"))
        if any(facts.CUDA_RELEASE_FIRST in text for text in _strings(path))
    ]
    assert by_hand == []
