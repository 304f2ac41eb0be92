"""The README's policy section: its rule table is the rules in code (names, levels, checks, config)."""

from pathlib import Path

from shimmy_policy.recognition import RECOGNITION_SCHEMA
from shimmy_policy.registry import RULES

README = Path(__file__).resolve().parents[2] / "README.md"


def policy_section() -> str:
    text = README.read_text()
    start = text.index("## Policy pack")
    return text[start : text.index("\n## ", start + 1)]


def table() -> dict[str, list[str]]:
    rows = {}
    for line in policy_section().splitlines():
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
    text = policy_section()
    for key in RECOGNITION_SCHEMA:
        assert f"`{key}`" in text
