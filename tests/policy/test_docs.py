"""docs/policy-pack.md: its rule table is generated from the registry; the config keys exist."""

from pathlib import Path

from shimmy_policy.recognition import RECOGNITION_SCHEMA
from shimmy_policy.registry import rule_table

DOC = Path(__file__).resolve().parents[2] / "docs" / "policy-pack.md"


def test_rule_table_is_the_one_the_registry_generates():
    assert rule_table() in DOC.read_text()


def test_documented_recognition_keys_exist():
    text = DOC.read_text()
    for key in RECOGNITION_SCHEMA:
        assert f"`{key}`" in text
