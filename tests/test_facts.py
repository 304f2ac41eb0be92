"""Facts that the program, the pack and the scripts all state have one home, shimmy_facts."""

from __future__ import annotations

import ast
import re
import subprocess

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


def _shell(function: str) -> list[str]:
    out = subprocess.run(
        ["bash", "-c", f"source scripts/common.sh && {function}"],
        cwd=ROOT, capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    return out.splitlines()


def test_the_base_images_and_the_dockerfile_install_the_same_builder_packages():
    assert _shell("builder_packages") == list(facts.BUILDER_PACKAGES)
    assert "util-linux" in facts.BUILDER_PACKAGES  # taskset, for buildJobs
    script = (ROOT / "scripts" / "base-images.sh").read_text()
    assert re.search(r"^BUILD_PACKAGES=\$\(builder_packages\b", script, re.M)
    rendered = (ROOT / "docker" / "Dockerfile").read_text()  # the renderer's output (test_dockerfile.py)
    install = rendered[rendered.index("apt-get install") : rendered.index("rm -rf /var/lib/apt/lists")]
    assert re.findall(r"^\s+(\S+) \\$", install, re.M) == list(facts.BUILDER_PACKAGES)
