"""The docs say what the code does: generated tables match their source."""

import importlib.util

from tests.program import ROOT

spec = importlib.util.spec_from_file_location("config_reference", ROOT / "scripts" / "config_reference.py")
config_reference = importlib.util.module_from_spec(spec)
spec.loader.exec_module(config_reference)


def test_config_reference_matches_pulumi_yaml():
    doc = (ROOT / "docs" / "configuration.md").read_text()
    assert config_reference.doc_table(doc) == config_reference.config_reference(), (
        "docs/configuration.md's table is stale: run python scripts/config_reference.py --write"
    )
