"""The README documents what the code does."""

import importlib.util

from tests.program import ROOT

spec = importlib.util.spec_from_file_location("config_reference", ROOT / "scripts" / "config_reference.py")
config_reference = importlib.util.module_from_spec(spec)
spec.loader.exec_module(config_reference)


def test_config_reference_matches_pulumi_yaml():
    readme = (ROOT / "README.md").read_text()
    assert config_reference.readme_table(readme) == config_reference.config_reference(), (
        "README config table is stale: run python scripts/config_reference.py --write"
    )
