"""The README's policy section: its rule table is generated from the registry; the config keys exist."""

from pathlib import Path

from shimmy_policy.recognition import RECOGNITION_SCHEMA
from shimmy_policy.registry import rule_table

README = Path(__file__).resolve().parents[2] / "README.md"


def policy_section() -> str:
    text = README.read_text()
    start = text.index("## Policy pack")
    return text[start : text.index("\n## ", start + 1)]


def test_rule_table_is_the_one_the_registry_generates():
    assert rule_table() in policy_section()


def test_documented_recognition_keys_exist():
    text = policy_section()
    for key in RECOGNITION_SCHEMA:
        assert f"`{key}`" in text
