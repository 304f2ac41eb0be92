"""Our patches over shimmy: the files, the facts the program reads and each header agree."""

import re

import pytest
import shimmy_facts as facts

from tests.program import ROOT

PATCH_DIR = ROOT / "docker" / "patches" / f"shimmy-{facts.PATCHED_RELEASE}"
HEADER_FIELDS = ("What", "Why", "Upstream", "Requires", "Tested")


def header(name: str) -> dict[str, str]:
    """The header's fields (a field runs on over indented lines), up to the first diff."""
    text = (PATCH_DIR / facts.patch_file(name)).read_text().split("\ndiff --git ", 1)[0]
    fields, current = {}, None
    for line in text.splitlines()[1:]:
        match = re.fullmatch(r"([A-Z][a-z]+):\s+(.*)", line)
        if match:
            current = match[1]
            fields[current] = match[2]
        elif current and line.startswith(" "):
            fields[current] += " " + line.strip()
    return fields


def test_every_patch_file_is_a_known_patch_and_every_known_patch_has_its_file():
    assert sorted(p.name for p in PATCH_DIR.glob("*.patch")) == sorted(
        map(facts.patch_file, facts.PATCH_NAMES)
    )
    assert sorted(p.name for p in PATCH_DIR.iterdir()) == sorted(map(facts.patch_file, facts.PATCH_NAMES))


@pytest.mark.parametrize("name", facts.PATCH_NAMES)
def test_each_header_says_what_why_upstream_requires_and_where_it_is_tested(name):
    fields = header(name)
    assert tuple(fields) == HEADER_FIELDS
    assert all(len(value) >= 5 for value in fields.values()), fields
    first = (PATCH_DIR / facts.patch_file(name)).read_text().splitlines()[0]
    assert first.startswith(f"{name}: ")


@pytest.mark.parametrize(("name", "requires"), facts.PATCHES)
def test_the_header_names_the_patches_the_facts_require(name, requires):
    named = header(name)["Requires"]
    if requires:
        assert named.split(" (")[0].split(", ") == list(requires)
    else:
        assert named.startswith("nothing")


@pytest.mark.parametrize(("name", "requires"), facts.PATCHES)
def test_a_patch_requires_only_patches_that_apply_before_it(name, requires):
    assert all(facts.PATCH_NAMES.index(need) < facts.PATCH_NAMES.index(name) for need in requires)


@pytest.mark.parametrize("name", facts.PATCH_NAMES)
def test_each_patch_says_what_building_without_it_costs(name):
    assert len(facts.PATCH_COSTS[name]) > 20


@pytest.mark.parametrize("name", facts.PATCH_NAMES)
def test_the_tests_a_header_names_exist(name):
    for path in re.findall(r"tests/[\w/]+\.py", header(name)["Tested"]):
        assert (ROOT / path).is_file(), path


def test_the_readme_and_the_patch_docs_name_every_patch():
    readme = (ROOT / "README.md").read_text()
    docs = (ROOT / "docs" / "patches.md").read_text()
    for name in facts.PATCH_NAMES:
        assert f"`{name}`" in readme and f"| `{name}`" in docs, name
