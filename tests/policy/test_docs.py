"""docs/policy.md's rule table is the rules in code: names, levels, what they check and catch, config."""

from pathlib import Path

from shimmy_policy.rules import RULES
from shimmy_policy.workloads import RECOGNITION_SCHEMA

DOC = Path(__file__).resolve().parents[2] / "docs" / "policy.md"


def table() -> dict[str, list[str]]:
    rows = {}
    for line in DOC.read_text().splitlines():
        if line.startswith("| `"):
            cells = [cell.strip() for cell in line.strip().strip("|").split(" | ")]
            rows[cells[0].strip("`")] = cells[1:]
    return rows


def test_rule_table_matches_the_rules_in_code():
    expected = {}
    for rule in RULES:
        keys = ", ".join(f"`{k}`" for k in rule.schema if k not in RECOGNITION_SCHEMA) or "-"
        expected[rule.name] = [rule.level, rule.description, rule.catches, keys]
    assert table() == expected


def test_documented_recognition_keys_exist():
    text = DOC.read_text()
    for key in RECOGNITION_SCHEMA:
        assert f"`{key}`" in text
