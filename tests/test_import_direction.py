"""Which side may import which: the facts import neither side, the pack never the program, and the
program takes only the facts from policy/, never the pack's rules.

Imports are read with `ast` (statements anywhere in a module, and `importlib.import_module` or
`__import__` of a literal name), so a docstring or a comment that names a package is no import.
"""

from __future__ import annotations

import ast
import shutil
from pathlib import Path

import pytest

from tests.program import ROOT

PROGRAM = ("shimmy_gpu", "components")
PACK = ("shimmy_policy",)
# Each side's files, and the top-level packages they must not import.
SIDES = {
    "facts": (("policy/shimmy_facts",), (*PROGRAM, *PACK)),
    "pack": (("policy/shimmy_policy", "policy/__main__.py"), PROGRAM),
    "program": (("shimmy_gpu", "components", "__main__.py"), PACK),
}


def imported(source: str, filename: str = "<source>") -> list[tuple[int, str]]:
    """(line, module) of every absolute import in `source`; relative imports stay in their package."""
    found = []
    for node in ast.walk(ast.parse(source, filename)):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.append((node.lineno, node.module))
        elif isinstance(node, ast.Call) and _dynamic_import(node.func):
            first = node.args[0] if node.args else None
            if isinstance(first, ast.Constant) and isinstance(first.value, str):
                found.append((node.lineno, first.value))
    return sorted(found, key=lambda entry: entry[0])


def _dynamic_import(func: ast.expr) -> bool:
    if isinstance(func, ast.Name):
        return func.id in ("__import__", "import_module")
    return isinstance(func, ast.Attribute) and func.attr == "import_module"


def violations(root: Path, paths: tuple[str, ...], forbidden: tuple[str, ...]) -> list[str]:
    """`file:line imports module` for every import under `paths` of a package in `forbidden`."""
    files = []
    for path in (root / p for p in paths):
        files += sorted(path.rglob("*.py")) if path.is_dir() else [path]
    return [
        f"{file.relative_to(root)}:{line} imports {module}"
        for file in files
        for line, module in imported(file.read_text(), str(file))
        if module.split(".")[0] in forbidden
    ]


@pytest.mark.parametrize("side", SIDES)
def test_no_side_imports_what_it_must_not(side):
    paths, forbidden = SIDES[side]
    assert all((ROOT / p).exists() for p in paths)
    assert violations(ROOT, paths, forbidden) == []


def test_the_program_does_import_the_facts():
    """The direction is kept by the facts package, not by the program doing without facts."""
    modules = {m for f in (ROOT / "shimmy_gpu").glob("*.py") for _, m in imported(f.read_text())}
    assert "shimmy_facts" in modules


def test_the_checker_sees_every_form_of_import():
    source = (
        '"""Mentions shimmy_gpu in a docstring: no import."""\n'
        "import os, shimmy_gpu.settings\n"
        "from components.image import ShimmyImage\n"
        "from . import sibling\n"
        "def later():\n"
        "    from shimmy_policy.rules import probes\n"
        "    importlib.import_module('shimmy_gpu.config')\n"
        "    __import__('components')\n"
    )
    assert imported(source) == [
        (2, "os"),
        (2, "shimmy_gpu.settings"),
        (3, "components.image"),
        (6, "shimmy_policy.rules"),
        (7, "shimmy_gpu.config"),
        (8, "components"),
    ]


def test_a_planted_violation_fails(tmp_path):
    """A copy of the facts that imports the program is caught, with its file and line."""
    shutil.copytree(ROOT / "policy" / "shimmy_facts", tmp_path / "policy" / "shimmy_facts")
    planted = tmp_path / "policy" / "shimmy_facts" / "__init__.py"
    lines = planted.read_text().count("\n")
    planted.write_text(planted.read_text() + "from shimmy_gpu.settings import Settings\n")
    paths, forbidden = SIDES["facts"]
    assert violations(tmp_path, paths, forbidden) == [
        f"policy/shimmy_facts/__init__.py:{lines + 1} imports shimmy_gpu.settings"
    ]
